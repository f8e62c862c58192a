"""One SPADE layer, rearranged for inference on a label map (see spade/fast/patterns.py for the idea).

Per model (once): mlp_shared's 3x3 conv becomes 9 embedding tables (a conv on a one-hot map is a sum of
lookups), gamma and beta are fused into one matrix with eval BatchNorm folded in.
Per label map and resolution: mlp_shared is evaluated once per distinct 3x3 window, its products with
the 9 taps of the gamma/beta conv once per distinct 3x3 window, and gamma/beta once per distinct 5x5
window as a sum of 9 of those products, giving a per-window affine (a, b).
Per frame: out = x * a[window] + b[window], in cache-sized chunks. The per-3x3-window products are kept
across label maps (`TapCache`): after a stroke only the windows the stroke created are new.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .patterns import Patterns
from ..model import SPADE

CHUNK_ELEMENTS = 1 << 17  # features per chunk in `apply` (512 KiB of float32 per gathered table)
TAP_CACHE_SLACK = 2       # a TapCache holding this many times the windows a frame needs starts afresh


class TapCache:
    """Rows W_t @ actv(window) for the 3x3 windows seen so far, keyed by the window's 9 classes.

    A row depends on nothing but the 9 classes (and the fixed weights), so reusing it is exact. Row 0 is
    the zero row that windows centred outside the image point to.
    """

    def __init__(self) -> None:
        self.keys: dict[bytes, int] = {}
        self.rows: torch.Tensor | None = None
        self.count = 1

    def lookup(self, windows: torch.Tensor, width: int,
               compute: Callable[[torch.Tensor, torch.Tensor], object]) -> torch.Tensor:
        """Row index of each of the (n, 9) distinct windows; compute(windows, out) writes the rows of the
        windows not seen yet into out (k, width)."""
        keys = [row.tobytes() for row in windows.to(torch.int32).cpu().numpy()]
        if len(self.keys) > TAP_CACHE_SLACK * max(len(keys), 64):
            self.keys, self.rows, self.count = {}, None, 1
        missing = [i for i, key in enumerate(keys) if key not in self.keys]
        if missing:
            need = self.count + len(missing)
            if self.rows is None or need > self.rows.shape[0]:
                grown = torch.empty(max(need, 2 * self.count, 64), width, device=windows.device)
                grown[0].zero_()
                if self.rows is not None:
                    grown[1:self.count] = self.rows[1:self.count]
                self.rows = grown
            subset = windows
            if len(missing) < len(keys):
                subset = windows[torch.tensor(missing, device=windows.device)]
            compute(subset, self.rows[self.count:need])
            for j, i in enumerate(missing):
                self.keys[keys[i]] = self.count + j
            self.count = need
        return torch.tensor([self.keys[key] for key in keys], dtype=torch.int64, device=windows.device)


def expand_edge_channel(weight: torch.Tensor) -> torch.Tensor:
    """A conv weight over K class channels + 1 instance-edge channel, as a weight over 2K "classes":
    class c without an edge is input channel c; class c on an edge (c + K) is channels c and K together.

    A one-hot map of those 2K classes through the expanded weight gives exactly the conv of the
    (one-hot, edge) input, so the window machinery works unchanged on the combined ids c + K * edge.
    """
    classes, edge = weight[:, :-1], weight[:, -1:]
    return torch.cat([classes, classes + edge], dim=1)


class FastSpade:
    """Precomputed tensors of one SPADE; `tables` depends on the label map only, `apply` on the features."""

    def __init__(self, spade: SPADE, device: torch.device, edge_channel: bool = False):
        conv = spade.mlp_shared[0]
        hidden = conv.weight.shape[0]
        weight = expand_edge_channel(conv.weight.detach().float()) if edge_channel else conv.weight.detach().float()
        label_nc = weight.shape[1]
        self.label_nc = label_nc
        self.taps = TapCache()
        embed = torch.zeros(9, label_nc + 1, hidden)
        embed[:, :label_nc] = weight.permute(2, 3, 1, 0).reshape(9, label_nc, hidden)
        self.embed = embed.reshape(9 * (label_nc + 1), hidden).to(device)
        self.tap_offsets = (torch.arange(9) * (label_nc + 1)).to(device)
        self.shared_bias = conv.bias.detach().float().to(device)
        self.norm_nc = n = spade.mlp_gamma.weight.shape[0]
        w_gamma, w_beta = (conv.weight.detach().double().permute(1, 2, 3, 0) for conv in (spade.mlp_gamma,
                                                                                          spade.mlp_beta))
        scale = spade.mlp_gamma.bias.detach().double() + 1      # (1 + gamma) and beta without BatchNorm
        shift = spade.mlp_beta.bias.detach().double()
        norm = spade.param_free_norm
        self.eps = norm.eps
        self.batch = isinstance(norm, nn.BatchNorm2d)
        if self.batch:
            if norm.training or norm.running_mean is None:
                raise ValueError("the fast path needs an eval-mode BatchNorm with running statistics")
            # eval BatchNorm folded into the gamma/beta weights (in float64): x * a + b with a = (1 + gamma) /
            # std and b = beta - mean * a, both linear in the gamma/beta convolutions' outputs
            inv_std = torch.rsqrt(norm.running_var.detach().double() + norm.eps)
            mean = norm.running_mean.detach().double()
            w_gamma, w_beta = w_gamma * inv_std, w_beta - w_gamma * (mean * inv_std)
            scale = scale * inv_std
            shift = shift - mean * scale
        elif norm.track_running_stats and not norm.training:
            raise ValueError("InstanceNorm with running statistics is not supported by the fast path")
        gb = torch.stack([w_gamma, w_beta], 3).reshape(hidden, 9 * 2 * n)   # per tap: n of a, then n of b
        self.gb_taps = gb.float().contiguous().to(device)
        self.gb_bias = torch.cat([scale, shift]).float().to(device)

    def tables(self, patterns: Patterns, dtype: torch.dtype,
               taps: TapCache | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-window (a, b), each (n_windows, norm_nc): out = x * a + b with BatchNorm folded in.

        taps: where the per-3x3-window products are kept (default: this SPADE's own cache).

        For InstanceNorm, (a, b) = (1 + gamma, beta): the statistics are the frame's own, applied later.
        """
        scale, shift = self.affine(patterns, taps).split(self.norm_nc, 1)
        return scale.to(dtype).contiguous(), shift.to(dtype).contiguous()

    def affine(self, patterns: Patterns, taps: TapCache | None = None) -> torch.Tensor:
        """(n_windows, 2 norm_nc) float32: `tables`' a and b side by side, as one tensor."""
        pad = patterns.pad
        if pad != self.label_nc:
            raise ValueError(f"patterns were built for {pad} classes, this SPADE has {self.label_nc}")
        # each distinct 3x3 window's contribution through each of the 9 taps of the gamma/beta conv (one
        # product per 3x3 window, kept across frames), then a sum of 9 lookups per distinct 5x5 window;
        # measured faster than one product per 5x5 window even on the 8x8 grid
        width = 2 * self.norm_nc
        taps = self.taps if taps is None else taps
        index = taps.lookup(patterns.pi_classes, 9 * width,
                                 lambda w, out: torch.mm(self._activations(w), self.gb_taps, out=out))
        index = torch.cat([index, index.new_zeros(1)])
        rows = index[patterns.rho_parts] * 9 + torch.arange(9, device=index.device)
        return F.embedding_bag(rows, taps.rows.view(-1, width), mode="sum").add_(self.gb_bias)

    def _activations(self, windows: torch.Tensor) -> torch.Tensor:
        """mlp_shared (3x3 conv on the one-hot map, ReLU) at the centre of each (k, 9) class window."""
        return torch.relu_(F.embedding_bag(windows + self.tap_offsets, self.embed, mode="sum") + self.shared_bias)

    def apply(self, x: torch.Tensor, rho: torch.Tensor, tables: tuple[torch.Tensor, torch.Tensor],
              negative_slope: float | None = None) -> torch.Tensor:
        """SPADE(x) for x (1, C, h, w) in channels_last; optionally followed by leaky_relu.

        Works in chunks of pixels so the gathered per-pixel (a, b) stay in cache: gathering whole maps
        first and then combining them costs about twice as much memory traffic.
        """
        a, b = tables
        if not self.batch:
            var, mean = torch.var_mean(x.float(), dim=(2, 3), unbiased=False, keepdim=True)
            x = ((x - mean.to(x.dtype)) * torch.rsqrt(var + self.eps).to(x.dtype))
        n, c, h, w = x.shape
        flat = x.permute(0, 2, 3, 1).reshape(h * w, c)
        index = rho.reshape(-1)
        out = torch.empty_like(flat)
        rows = min(h * w, max(64, CHUNK_ELEMENTS // c))
        a_buf = torch.empty(rows, c, dtype=a.dtype, device=a.device)
        b_buf = torch.empty_like(a_buf)
        for start in range(0, h * w, rows):
            stop = min(h * w, start + rows)
            k = stop - start
            torch.index_select(a, 0, index[start:stop], out=a_buf[:k])
            torch.index_select(b, 0, index[start:stop], out=b_buf[:k])
            chunk = out[start:stop]
            torch.addcmul(b_buf[:k], flat[start:stop], a_buf[:k], out=chunk)
            if negative_slope is not None:
                F.leaky_relu_(chunk, negative_slope)
        return out.view(n, h, w, c).permute(0, 3, 1, 2)
