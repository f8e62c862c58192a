"""CIELAB (D65) from sRGB, in numpy (measures) and in torch (differentiable, for training losses)."""
from __future__ import annotations

import numpy as np
import torch

RGB_TO_XYZ = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750),
              (0.0193339, 0.1191920, 0.9503041))
WHITE = (0.95047, 1.0, 1.08883)
EPSILON = (6 / 29) ** 3


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB (uint8 or floats in 0..255) -> (..., 3) CIELAB (D65)."""
    c = np.asarray(rgb, np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = c @ np.asarray(RGB_TO_XYZ).T / np.asarray(WHITE)
    f = np.where(xyz > EPSILON, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


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
