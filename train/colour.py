"""CIELAB (D65) from sRGB in torch, differentiable, for training losses (the numpy one is spade.colour's)."""
from __future__ import annotations

import torch

from spade.colour import EPSILON, RGB_TO_XYZ, WHITE


def srgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """(3, ...) sRGB floats in [0, 1] -> (3, ...) CIELAB, differentiable (clamped away from the cube root's
    infinite slope at 0)."""
    c = rgb.clamp(0.0, 1.0)
    c = torch.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = torch.tensor(RGB_TO_XYZ, dtype=c.dtype, device=c.device)
    white = torch.tensor(WHITE, dtype=c.dtype, device=c.device).view(3, *([1] * (c.dim() - 1)))
    xyz = torch.tensordot(m, c, dims=([1], [0])) / white
    f = torch.where(xyz > EPSILON, xyz.clamp(min=EPSILON) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])
