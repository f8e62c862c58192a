"""3x3 convolution by Winograd's F(2x2, 3x3) and F(4x4, 3x3): 16 or 36 multiplies per 2x2 or 4x4 output tile
instead of 36 or 144.

The trunk of a full-size SPADE spends most of its time in 1024- to 256-channel 3x3 convolutions on 8x8 to
64x64 grids. There, fewer multiply-adds in 16 or 36 large matrix products beat the direct convolution (oneDNN
has no Winograd path in PyTorch). Which one wins depends on the grid (measured on AVX-512, one thread): on
8x8 and 16x16 grids the products have few rows and stream their weights, so F(2x2)'s 16 weight matrices
beat F(4x4)'s 36; on 32x32 and 64x64 F(4x4)'s 4x fewer multiply-adds win; on larger grids with fewer channels
the transforms' memory traffic loses, so those stay direct. `Conv3x3` picks per call.

F(2x2)'s transforms only add, subtract and halve: in float32 it matches the direct convolution to about 1e-6
relative. F(4x4) uses the points 0, 1, -1, 2, -2 and infinity; its transforms scale by up to 8, so its error
is about 1e-5 relative to the largest output of a layer (the weight transform is done in float64).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

WINOGRAD_MIN_CHANNELS = 256     # convolutions this wide on both sides use Winograd
F2_MAX_PIXELS = 16 * 16         # grids up to this many pixels use F(2x2, 3x3)
F4_MAX_PIXELS = 64 * 64         # and larger ones up to this many F(4x4, 3x3); above, direct
# time per direct multiply-add over Winograd's there, round figures of what scripts/bench_winograd measures
# (1 thread): for the multiply-add estimates of previews
F2_SPEEDUP = 1.7
F4_SPEEDUP = 2.0

_G2 = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]], dtype=torch.float64)
_G4 = torch.tensor([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
                    [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]], dtype=torch.float64)


def winograd_weight(weight: torch.Tensor, tile: int = 2) -> torch.Tensor:
    """(C_out, C_in, 3, 3) -> (n * n, C_in, C_out) with n = tile + 2: G w G^T for every filter (in float64),
    as n * n matrices; tile is 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3))."""
    if tile not in (2, 4):
        raise ValueError(f"Winograd tiles are 2 or 4 pixels wide, not {tile}")
    g = (_G2 if tile == 2 else _G4).to(weight.device)
    u = torch.einsum("ak,oikl,bl->abio", g, weight.double(), g)
    return u.reshape(-1, weight.shape[1], weight.shape[0]).to(weight.dtype).contiguous()


def winograd_conv3x3(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """conv2d(x, w, bias, padding=1) for x (1, C, H, W) in channels_last; u = winograd_weight(w, tile), the
    tile read from u's shape."""
    if u.shape[0] == 36:
        return _winograd4(x, u, bias)
    _, c, h, w = x.shape
    c_out = u.shape[2]
    th, tw = (h + 1) // 2, (w + 1) // 2
    padded = F.pad(x.permute(0, 2, 3, 1)[0], (0, 0, 1, 1 + w % 2, 1, 1 + h % 2))  # zero border, even tiles
    r = [padded[k:k + 2 * th:2] for k in range(4)]                                      # tile rows k
    tiles = torch.empty(16, th, tw, c, dtype=x.dtype, device=x.device)
    for a, row in enumerate((r[0] - r[2], r[1] + r[2], r[2] - r[1], r[1] - r[3])):  # B^T d
        col = [row[:, k:k + 2 * tw:2] for k in range(4)]
        torch.sub(col[0], col[2], out=tiles[4 * a])                                     # (B^T d) B
        torch.add(col[1], col[2], out=tiles[4 * a + 1])
        torch.sub(col[2], col[1], out=tiles[4 * a + 2])
        torch.sub(col[1], col[3], out=tiles[4 * a + 3])
    m = torch.bmm(tiles.view(16, th * tw, c), u).view(4, 4, th, tw, c_out)
    out = torch.empty(th, 2, tw, 2, c_out, dtype=x.dtype, device=x.device)
    for a, s in enumerate((m[0] + m[1] + m[2], m[1] - m[2] - m[3])):                # A^T m
        torch.add(s[0] + s[1], s[2], out=out[:, a, :, 0])                               # (A^T m) A
        torch.sub(s[1] - s[2], s[3], out=out[:, a, :, 1])
    out = out.view(2 * th, 2 * tw, c_out)[:h, :w]
    if bias is not None:
        out = out + bias
    return out.unsqueeze(0).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def _input_transform4(d: list[torch.Tensor], out: list[torch.Tensor], p: torch.Tensor, q: torch.Tensor) -> None:
    """out[a] = sum_k B^T[a, k] d[k] for F(4x4, 3x3), with shared partial sums in the buffers p and q."""
    torch.add(d[4], d[0], alpha=4, out=out[0]).add_(d[2], alpha=-5)      # 4 d0 - 5 d2 + d4
    torch.add(d[4], d[2], alpha=-4, out=p)
    torch.add(d[3], d[1], alpha=-4, out=q)
    torch.add(p, q, out=out[1])                                           # -4 d1 - 4 d2 + d3 + d4
    torch.sub(p, q, out=out[2])                                           # 4 d1 - 4 d2 - d3 + d4
    torch.sub(d[4], d[2], out=p)
    torch.sub(d[3], d[1], out=q)
    torch.add(p, q, alpha=2, out=out[3])                                  # -2 d1 - d2 + 2 d3 + d4
    torch.add(p, q, alpha=-2, out=out[4])                                 # 2 d1 - d2 - 2 d3 + d4
    torch.add(d[5], d[1], alpha=4, out=out[5]).add_(d[3], alpha=-5)      # 4 d1 - 5 d3 + d5


def _output_transform4(m: list[torch.Tensor], out: list[torch.Tensor], buffers: list[torch.Tensor]) -> None:
    """out[r] = sum_a A^T[r, a] m[a] for F(4x4, 3x3); buffers: four tensors of m[0]'s shape."""
    s, t, u, v = buffers
    torch.add(m[1], m[2], out=s)
    torch.sub(m[1], m[2], out=t)
    torch.add(m[3], m[4], out=u)
    torch.sub(m[3], m[4], out=v)
    torch.add(m[0], s, out=out[0]).add_(u)                                # m0 + m1 + m2 + m3 + m4
    torch.add(t, v, alpha=2, out=out[1])                                  # m1 - m2 + 2 (m3 - m4)
    torch.add(s, u, alpha=4, out=out[2])                                  # m1 + m2 + 4 (m3 + m4)
    torch.add(m[5], t, out=out[3]).add_(v, alpha=8)                       # m1 - m2 + 8 (m3 - m4) + m5


def _winograd4(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """F(4x4, 3x3): 6x6 input tiles at a stride of 4, 36 matrix products, 4x4 output tiles."""
    _, c, h, w = x.shape
    c_out = u.shape[2]
    th, tw = (h + 3) // 4, (w + 3) // 4
    kw = dict(dtype=x.dtype, device=x.device)
    padded = F.pad(x.permute(0, 2, 3, 1)[0], (0, 0, 1, 1 + 4 * tw - w, 1, 1 + 4 * th - h))
    rows = torch.empty(6, th, 4 * tw + 2, c, **kw)                       # B^T d, for every tile row
    _input_transform4([padded[k:k + 4 * th:4] for k in range(6)], list(rows), *torch.empty(2, *rows.shape[1:], **kw))
    tiles = torch.empty(6, 6, th, tw, c, **kw)                           # (B^T d) B
    pq = torch.empty(2, th, tw, c, **kw)
    for a in range(6):
        _input_transform4([rows[a][:, k:k + 4 * tw:4] for k in range(6)], list(tiles[a]), *pq)
    m = torch.bmm(tiles.view(36, th * tw, c), u).view(6, 6, th, tw, c_out)
    cols = torch.empty(4, 6, th, tw, c_out, **kw)                        # A^T m
    _output_transform4(list(m), list(cols), list(torch.empty(4, 6, th, tw, c_out, **kw)))
    out = torch.empty(th, 4, tw, 4, c_out, **kw)                         # (A^T m) A
    buffers = list(torch.empty(4, th, tw, c_out, **kw))
    for r in range(4):
        _output_transform4(list(cols[r]), [out[:, r, :, k] for k in range(4)], buffers)
    if bias is not None:
        out.add_(bias)
    out = out.view(4 * th, 4 * tw, c_out)[:h, :w]
    return out.unsqueeze(0).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def winograd_tile(in_channels: int, out_channels: int, pixels: int) -> int:
    """The Winograd tile (2 or 4) a float32 CPU convolution this wide runs with on a grid of this many pixels,
    0 for the direct convolution."""
    if min(in_channels, out_channels) < WINOGRAD_MIN_CHANNELS or pixels > F4_MAX_PIXELS:
        return 0
    return 2 if pixels <= F2_MAX_PIXELS else 4


class Conv3x3:
    """A padded 3x3 convolution that runs direct (oneDNN), F(2x2, 3x3) or F(4x4, 3x3), whichever is faster on
    the grid it is given.

    The direct weight is the module's own tensor (no copy: with a channels_last input oneDNN runs as fast
    from a contiguous weight); each Winograd weight (16/9 or 4 times the size) is made on first use only.
    """

    def __init__(self, conv: torch.nn.Conv2d, device: torch.device, dtype: torch.dtype):
        self.weight = conv.weight.detach().to(device, dtype)
        self.bias = conv.bias.detach().to(device, dtype) if conv.bias is not None else None
        self.use_winograd = device.type == "cpu" and dtype == torch.float32
        self._winograd: dict[int, torch.Tensor] = {}

    def tile_at(self, pixels: int) -> int:
        """The Winograd tile (2 or 4) a grid of this many pixels runs with, 0 for the direct convolution."""
        if not self.use_winograd:
            return 0
        return winograd_tile(self.weight.shape[1], self.weight.shape[0], pixels)

    def speedup_at(self, pixels: int) -> float:
        """Measured time per direct multiply-add over this grid's method's (1.0 for the direct convolution)."""
        return {0: 1.0, 2: F2_SPEEDUP, 4: F4_SPEEDUP}[self.tile_at(pixels)]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        tile = self.tile_at(x.shape[2] * x.shape[3])
        if tile:
            if tile not in self._winograd:
                self._winograd[tile] = winograd_weight(self.weight, tile)
            return winograd_conv3x3(x, self._winograd[tile], self.bias)
        return F.conv2d(x, self.weight, self.bias, padding=1)
