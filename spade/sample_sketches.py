"""Painted-looking ADE20K label maps for benchmarks and tests, when no example sketch is at hand.

Region borders are wobbly curves and round brush dabs (as a person paints them), not straight lines:
straight borders would flatter the fast path, which profits from repeated border shapes.
"""
from __future__ import annotations

import numpy as np

SKY, TREE, GRASS, MOUNTAIN, WATER, ROCK = 3, 5, 10, 17, 22, 35


def painted_landscape(height: int = 256, width: int = 256, seed: int = 0) -> np.ndarray:
    """(height, width) uint8 ADE20K ids: sky, two mountain ridges, a lake, grass, trees and rocks."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = xx / width, yy / height

    def wobble(base: float, amp: float, freqs: tuple[float, ...]) -> np.ndarray:
        phases = rng.uniform(0, 2 * np.pi, len(freqs))
        waves = (amp / (i + 1) * np.sin(2 * np.pi * f * u + p) for i, (f, p) in enumerate(zip(freqs, phases)))
        return base + sum(waves)

    lab = np.full((height, width), SKY, np.uint8)
    lab[v > wobble(0.32, 0.06, (1.3, 3.7, 9.1))] = MOUNTAIN
    lab[v > wobble(0.45, 0.04, (2.1, 5.3, 13.0))] = TREE
    lab[v > wobble(0.58, 0.015, (1.7, 6.1))] = GRASS
    lake = ((u - 0.55) / 0.28) ** 2 + ((v - 0.72) / 0.09) ** 2 + 0.15 * np.sin(17 * u + 5 * v) < 1
    lab[lake] = WATER
    for _ in range(6):
        cy, cx, r = rng.uniform(0.55, 0.95), rng.uniform(0.0, 1.0), rng.uniform(0.03, 0.07)
        lab[((u - cx) ** 2 + (v - cy) ** 2) < r * r] = TREE
    for _ in range(3):
        cy, cx, r = rng.uniform(0.8, 0.97), rng.uniform(0.0, 1.0), rng.uniform(0.01, 0.025)
        lab[((u - cx) ** 2 + (v - cy) ** 2) < r * r] = ROCK
    return lab


def brush_stroke(labels: np.ndarray, label: int, fraction: float = 0.02, seed: int = 1) -> np.ndarray:
    """A copy of labels with one round-brush stroke (a short arc) of `label` over about `fraction` of pixels."""
    h, w = labels.shape
    rng = np.random.default_rng(seed)
    out = labels.copy()
    yy, xx = np.mgrid[0:h, 0:w]
    radius = max(1.0, 0.035 * min(h, w))
    y0, x0 = rng.uniform(0.55, 0.8) * h, rng.uniform(0.2, 0.5) * w
    angle = rng.uniform(-0.4, 0.4)
    painted = np.zeros((h, w), bool)
    step = 0
    while painted.mean() < fraction and step < 4 * max(h, w):
        cy, cx = y0 + step * np.sin(angle), x0 + step * np.cos(angle)
        painted |= (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
        step += 1
    out[painted] = label
    return out
