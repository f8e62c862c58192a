"""CIELAB (D65) to and from sRGB, the colour space in which style looks are compared (spade/style_atlas.py),
a photo's tone is applied (spade/tone.py) and the measures of train.quality read colour differences."""
from __future__ import annotations

import numpy as np

RGB_TO_XYZ = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750),
              (0.0193339, 0.1191920, 0.9503041))
WHITE = (0.95047, 1.0, 1.08883)
EPSILON = (6 / 29) ** 3


def _linear(c: np.ndarray) -> np.ndarray:
    """sRGB values in 0..1 -> linear light."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


_LINEAR_UINT8 = _linear(np.arange(256) / 255.0)  # the same, looked up for 8-bit values: the photos and renders


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) sRGB (uint8 or floats in 0..255) -> (..., 3) CIELAB (D65)."""
    rgb = np.asarray(rgb)
    c = _LINEAR_UINT8[rgb] if rgb.dtype == np.uint8 else _linear(rgb.astype(np.float64) / 255.0)
    xyz = c @ np.asarray(RGB_TO_XYZ).T / np.asarray(WHITE)
    f = np.where(xyz > EPSILON, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def lab_to_srgb(lab: np.ndarray) -> np.ndarray:
    """(..., 3) CIELAB (D65) -> (..., 3) sRGB floats in 0..255.

    A colour outside sRGB keeps its lightness and hue: it is desaturated toward the grey of its luminance
    just enough to fit (clipping each channel would shift its hue: a bright blue sky would turn cyan)."""
    lab = np.asarray(lab, np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], -1)
    xyz = np.where(f > 6 / 29, f ** 3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * np.asarray(WHITE)
    c = xyz @ np.linalg.inv(np.asarray(RGB_TO_XYZ)).T
    grey = np.clip(xyz[..., 1:2], 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(c > 1.0, (1.0 - grey) / (c - grey), np.where(c < 0.0, grey / (grey - c), 1.0))
    c = np.clip(grey + np.clip(np.nan_to_num(room, nan=0.0).min(-1, keepdims=True), 0.0, 1.0) * (c - grey), 0, 1)
    c = np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)
    return c * 255.0
