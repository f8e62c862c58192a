"""Vectorised fractal noise for the procedural generator.

Generating fresh 2D fractal noise for every scene is the expensive part of
procedural texturing, so a small bank of tileable noise tiles is synthesised
once per process (spectral synthesis with an inverse FFT) and each scene
samples random, optionally stretched, windows of it. That keeps a scene's
texturing to cheap gathers and element-wise maths.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

TILE = 512
_BANK_SEED = 0x6A06_2019
# name -> spectral falloff exponent of the amplitude spectrum (higher = smoother)
_KINDS = {"smooth": 1.9, "fbm": 1.5, "rough": 1.1, "grain": 0.6}
_TILES_PER_KIND = 3


def _spectral_tile(rng: np.random.Generator, alpha: float, size: int) -> np.ndarray:
    """Tileable fractal noise, zero mean and unit std, amplitude ~ 1/f**alpha."""
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f = np.sqrt(fy * fy + fx * fx)
    f[0, 0] = 1.0
    amp = f ** (-alpha)
    amp[0, 0] = 0.0
    phase = rng.uniform(0.0, 2.0 * np.pi, amp.shape)
    spec = amp * rng.standard_normal(amp.shape) * np.exp(1j * phase)
    tile = np.fft.irfft2(spec, s=(size, size))
    tile -= tile.mean()
    tile /= tile.std() + 1e-12
    return tile.astype(np.float32)


@lru_cache(maxsize=1)
def noise_bank() -> dict[str, tuple[np.ndarray, ...]]:
    """The process-wide, deterministic bank of noise tiles."""
    rng = np.random.default_rng(_BANK_SEED)
    return {
        kind: tuple(_spectral_tile(rng, alpha, TILE) for _ in range(_TILES_PER_KIND))
        for kind, alpha in _KINDS.items()
    }


def sample(
    rng: np.random.Generator,
    kind: str,
    shape: tuple[int, int],
    scale_y: float = 1.0,
    scale_x: float = 1.0,
) -> np.ndarray:
    """A random window of a noise tile; ``scale`` > 1 makes features smaller.

    Unequal scales stretch the noise (e.g. ``scale_y`` < ``scale_x`` gives
    vertical streaks such as grass blades).
    """
    tiles = noise_bank()[kind]
    tile = tiles[int(rng.integers(len(tiles)))]
    h, w = shape
    oy, ox = rng.integers(0, TILE, size=2)
    iy = (oy + np.arange(h) * scale_y).astype(np.int64) % TILE
    ix = (ox + np.arange(w) * scale_x).astype(np.int64) % TILE
    return tile[iy[:, None], ix[None, :]]


class Field:
    """One randomly chosen and offset noise tile, addressable at any coordinates.

    Looking the same field up at shifted coordinates gives directional
    derivatives (used to light clouds and foliage clumps cheaply).
    """

    def __init__(self, rng: np.random.Generator, kind: str) -> None:
        tiles = noise_bank()[kind]
        self.tile = tiles[int(rng.integers(len(tiles)))]
        self.oy, self.ox = (int(v) for v in rng.integers(0, TILE, size=2))

    def __call__(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        iy = (ys + self.oy).astype(np.int64) % TILE
        ix = (xs + self.ox).astype(np.int64) % TILE
        return self.tile[iy, ix]


def fractal_1d(rng: np.random.Generator, n: int, alpha: float = 1.6) -> np.ndarray:
    """A 1D fractal profile (zero mean, unit std) for ridges and shorelines."""
    m = 2 * n
    f = np.fft.rfftfreq(m)
    f[0] = 1.0
    amp = f ** (-alpha)
    amp[0] = 0.0
    spec = amp * (rng.standard_normal(f.shape) + 1j * rng.standard_normal(f.shape))
    prof = np.fft.irfft(spec, n=m)[:n]
    prof -= prof.mean()
    return (prof / (prof.std() + 1e-12)).astype(np.float32)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def box_blur_x(a: np.ndarray, r: int) -> np.ndarray:
    """Box blur along axis 1 with edge clamping (cumulative-sum trick)."""
    if r <= 0:
        return a
    pad = np.concatenate([np.repeat(a[:, :1], r + 1, 1), a, np.repeat(a[:, -1:], r, 1)], 1)
    c = np.cumsum(pad, axis=1, dtype=np.float32)
    return (c[:, 2 * r + 1 :] - c[:, : -(2 * r + 1)]) / (2 * r + 1)


def gradient(a: np.ndarray, axis: int) -> np.ndarray:
    """np.gradient that tolerates a single row/column (zero derivative)."""
    if a.shape[axis] < 2:
        return np.zeros_like(a)
    return np.gradient(a, axis=axis)


def box_blur_y(a: np.ndarray, r: int) -> np.ndarray:
    return box_blur_x(a.T, r).T
