"""Domain randomisation for style photos: new light, new skies and a camera's faults.

The style encoder's training targets are read from the augmented photo itself (train/photo_encoder.py), so every
change here is one the target follows: a photo made darker and bluer asks for a darker, bluer render. Images are
float32 (H, W, 3) arrays in [0, 1].
"""
from __future__ import annotations

import colorsys
import io

import numpy as np
from PIL import Image, ImageFilter

LUMA = np.asarray((0.299, 0.587, 0.114), np.float32)


def square_crop(image: np.ndarray, size: int, rng: np.random.Generator, min_side: float = 0.6) -> np.ndarray:
    """A random square crop of `min_side`..1 of the short side, resized to `size`."""
    h, w = image.shape[:2]
    side = int(min(h, w) * rng.uniform(min_side, 1.0))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = Image.fromarray(np.uint8(image[top:top + side, left:left + side] * 255 + 0.5))
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255


def relight(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Exposure, white balance, gamma, contrast and saturation, each drawn at random."""
    x = image * np.exp(rng.uniform(-1.0, 0.45))
    x = x * np.exp(rng.normal(0.0, 0.12, 3)).astype(np.float32)
    x = np.clip(x, 0.0, 1.0) ** np.exp(rng.uniform(-0.3, 0.3))
    luma = x @ LUMA
    mean = luma.mean()
    contrast = rng.uniform(0.45, 1.2)
    x = (x - mean) * contrast + mean + (1.0 - contrast) * rng.uniform(0.0, 0.35)  # low contrast: toward a haze
    luma = (x @ LUMA)[..., None]
    x = luma + (x - luma) * rng.uniform(0.3, 1.4)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


# Hues a sky takes (HSV, in turns): blue to violet by day and at dusk, magenta through red to yellow at sunset.
SKY_HUES = ((0.52, 0.75), (0.75, 0.95), (0.95, 1.14))


def _random_sky_colour(rng: np.random.Generator) -> np.ndarray:
    low, high = SKY_HUES[int(rng.integers(len(SKY_HUES)))]
    hue = rng.uniform(low, high) % 1.0
    return np.asarray(colorsys.hsv_to_rgb(hue, rng.uniform(0.0, 0.75), rng.uniform(0.12, 1.0)), np.float32)


def new_sky(image: np.ndarray, sky: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The sky repainted as a vertical gradient between two random colours, keeping its clouds' shading."""
    if not sky.any():
        return image
    h = image.shape[0]
    top, bottom = _random_sky_colour(rng), _random_sky_colour(rng)
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None] ** rng.uniform(0.5, 2.0)
    gradient = top * (1 - t) + bottom * t
    luma = image @ LUMA
    detail = (luma / max(float(luma[sky].mean()), 1e-3))[..., None] ** rng.uniform(0.3, 1.0)
    out = image.copy()
    out[sky] = np.clip(gradient * detail, 0.0, 1.0)[sky]
    return out


def camera_faults(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Some of: blur, sensor noise, vignetting, JPEG compression."""
    x = image
    if rng.random() < 0.3:
        pil = Image.fromarray(np.uint8(x * 255 + 0.5)).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2.0)))
        x = np.asarray(pil, np.float32) / 255
    if rng.random() < 0.3:
        x = x + rng.normal(0.0, rng.uniform(0.005, 0.04), x.shape).astype(np.float32)
    if rng.random() < 0.2:
        h, w = x.shape[:2]
        yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
        x = x * (1.0 - rng.uniform(0.1, 0.5) * ((yy ** 2 + xx ** 2) / 2))[..., None].astype(np.float32)
    x = np.clip(x, 0.0, 1.0)
    if rng.random() < 0.3:
        buf = io.BytesIO()
        Image.fromarray(np.uint8(x * 255 + 0.5)).save(buf, "JPEG", quality=int(rng.integers(25, 90)))
        x = np.asarray(Image.open(buf).convert("RGB"), np.float32) / 255
    return x.astype(np.float32)
