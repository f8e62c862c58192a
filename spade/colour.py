"""CIELAB (D65) from sRGB, the colour space in which style looks are compared (spade/style_atlas.py) and the
measures of train.quality read colour differences."""
from __future__ import annotations

import numpy as np

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
