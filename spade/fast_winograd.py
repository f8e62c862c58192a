"""3x3 convolution by Winograd's F(2x2, 3x3): 16 multiplies per 2x2 output tile instead of 36.

The trunk of a full-size SPADE spends most of its time in 1024- and 512-channel 3x3 convolutions on 8x8
to 32x32 grids. There, 2.25x fewer multiply-adds in 16 large matrix products beat the direct
convolution (oneDNN has no Winograd path in PyTorch); on larger grids with fewer channels the extra
memory traffic of the transforms loses, so `Conv3x3` picks per call. The transforms only add, subtract
and halve, so in float32 the result matches the direct convolution to about 1e-6 relative.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

WINOGRAD_MAX_PIXELS = 32 * 32   # grids up to this many pixels use Winograd (measured on AVX-512, 1-2 threads)
WINOGRAD_MIN_CHANNELS = 256     # and only convolutions this wide on both sides
WINOGRAD_SPEEDUP = 1.7          # measured time per direct multiply-add over Winograd's there (1 thread)

_G = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]], dtype=torch.float64)


def winograd_weight(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C_in, 3, 3) -> (16, C_in, C_out): G w G^T for every filter, as 16 matrices."""
    u = torch.einsum("ak,oikl,bl->abio", _G.to(weight.device), weight.double(), _G.to(weight.device))
    return u.reshape(16, weight.shape[1], weight.shape[0]).to(weight.dtype).contiguous()


def winograd_conv3x3(x: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """conv2d(x, w, bias, padding=1) for x (1, C, H, W) in channels_last; u = winograd_weight(w)."""
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


class Conv3x3:
    """A padded 3x3 convolution that runs direct (oneDNN) or Winograd, whichever is faster.

    The direct weight is the module's own tensor (no copy: with a channels_last input oneDNN runs as fast
    from a contiguous weight); the Winograd weight (16/9 of the size) is made on first use only.
    """

    def __init__(self, conv: torch.nn.Conv2d, device: torch.device, dtype: torch.dtype):
        self.weight = conv.weight.detach().to(device, dtype)
        self.bias = conv.bias.detach().to(device, dtype) if conv.bias is not None else None
        wide = min(self.weight.shape[0], self.weight.shape[1]) >= WINOGRAD_MIN_CHANNELS
        self.use_winograd = wide and device.type == "cpu" and dtype == torch.float32
        self._winograd: torch.Tensor | None = None

    def winograd_at(self, pixels: int) -> bool:
        """Whether a grid of this many pixels runs by Winograd."""
        return self.use_winograd and pixels <= WINOGRAD_MAX_PIXELS

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.winograd_at(x.shape[2] * x.shape[3]):
            if self._winograd is None:
                self._winograd = winograd_weight(self.weight)
            return winograd_conv3x3(x, self._winograd, self.bias)
        return F.conv2d(x, self.weight, self.bias, padding=1)
