"""Label-map patterns: why SPADE's modulation needs no convolution on a painted label map.

Inside one SPADE, gamma and beta at a pixel are a function of the classes in the 5x5 window around it and
of nothing else: mlp_shared (3x3 conv on the one-hot map, then ReLU) sees a 3x3 window, and the gamma/beta
convs (3x3 on that) widen it to 5x5. Zero padding makes "outside the image" one more class (`pad`): its
one-hot is all zero, and an activation outside the image is zero too.

A painted map has few distinct 5x5 windows (one per class in the interior of regions, plus the shapes that
occur along region borders and the image edge), so we number the distinct windows once per resolution and
evaluate the SPADE convolutions once per window instead of once per pixel. The numbering is exact (no
hashing): windows are built from triples of ids, each triple encoded in one int64 and uniqued.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

_INT64_LIMIT = 2 ** 62


@dataclass
class Patterns:
    """The distinct windows of one label map at one resolution.

    rho:        (h, w) int64, the id of each pixel's 5x5 window (what gamma and beta depend on).
    pi_classes: (n_pi, 9) int64, the classes of each distinct 3x3 window centred inside the image
                (row-major taps, `pad` outside the image).
    rho_parts:  (n_rho, 9) int64, each distinct 5x5 window as the 3x3 grid of its 3x3 windows: an index
                into pi_classes, or n_pi for a window centred outside the image (zero activation).
    """

    rho: torch.Tensor
    pi_classes: torch.Tensor
    rho_parts: torch.Tensor
    pad: int

    @property
    def num_patterns(self) -> int:
        return self.rho_parts.shape[0]

    @property
    def num_inside(self) -> int:
        return self.pi_classes.shape[0]


def _unique_ids(key: torch.Tensor) -> tuple[torch.Tensor, int, torch.Tensor]:
    """Dense ids (same shape as key), their count, and one flat position where each id occurs."""
    values, inverse = torch.unique(key.reshape(-1), sorted=True, return_inverse=True)
    n = values.numel()
    positions = torch.arange(inverse.numel(), device=key.device)
    where = torch.empty(n, dtype=torch.int64, device=key.device).scatter_(0, inverse, positions)
    return inverse.reshape(key.shape), n, where


def _triples(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor,
             base: int) -> tuple[torch.Tensor, int, torch.Tensor]:
    """Ids of the triples (a, b, c) elementwise, where every entry is in [0, base)."""
    if base ** 3 < _INT64_LIMIT:
        return _unique_ids((a * base + b) * base + c)
    stacked = torch.stack([a.reshape(-1), b.reshape(-1), c.reshape(-1)], 1)
    _, inverse = torch.unique(stacked, dim=0, return_inverse=True)
    return _unique_ids(inverse.reshape(a.shape))


def _windows_at(grid: torch.Tensor, where: torch.Tensor, out_width: int) -> torch.Tensor:
    """(k, 9): the 3x3 windows of grid whose top-left corners are at flat positions `where` of an
    (H-2, out_width) grid of window positions; taps in row-major (conv weight) order."""
    width = grid.shape[1]
    ys, xs = where // out_width, where % out_width
    taps = torch.tensor([dy * width + dx for dy in range(3) for dx in range(3)], device=grid.device)
    return grid.reshape(-1)[(ys * width + xs)[:, None] + taps]


def build_windows(classes: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Number the 3x3 windows of an (h, w) int64 class map (values in [0, pad)): (pi, pi_classes), pi
    (h + 2, w + 2) the id of the window centred at each pixel and at the ring just outside the map, an index
    into pi_classes (n_pi, 9), the distinct windows centred inside, or n_pi for one centred outside (whose
    activation is zero)."""
    h, w = classes.shape
    base = pad + 1
    grid = torch.full((h + 4, w + 4), pad, dtype=torch.int64, device=classes.device)
    grid[2:-2, 2:-2] = classes
    rows, n_rows, _ = _triples(grid[:, :-2], grid[:, 1:-1], grid[:, 2:], base)          # (h+4, w+2)
    pi, n_pi, pi_where = _triples(rows[:-2], rows[1:-1], rows[2:], n_rows)              # (h+2, w+2)
    pi_classes = _windows_at(grid, pi_where, w + 2)
    inside = pi_classes[:, 4] != pad
    compact = torch.cumsum(inside, 0) - 1
    remap = torch.where(inside, compact, torch.full_like(compact, int(inside.sum())))
    return remap[pi], pi_classes[inside]


def build_patterns(classes: torch.Tensor, pad: int) -> Patterns:
    """Number the 3x3 and 5x5 windows of an (h, w) int64 class map (values in [0, pad))."""
    h, w = classes.shape
    pi, pi_classes = build_windows(classes, pad)
    n_pi = pi_classes.shape[0] + 1                                                      # with the outside id
    rows5, n_rows5, _ = _triples(pi[:, :-2], pi[:, 1:-1], pi[:, 2:], n_pi)              # (h+2, w)
    rho, _, rho_where = _triples(rows5[:-2], rows5[1:-1], rows5[2:], n_rows5)           # (h, w)
    return Patterns(rho, pi_classes, _windows_at(pi, rho_where, w), pad)
