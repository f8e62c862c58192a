"""Shape primitives painted into label maps: ridges, blobs, trees, rocks.

Every painter draws into ``labels`` in place, restricted to its bounding box
so that many small objects stay cheap.
"""

from __future__ import annotations

import numpy as np

from . import noise


def _bbox(h: int, w: int, x0: float, x1: float, y0: float, y1: float):
    """Clipped integer box and its coordinate grids, or None when off-image."""
    xa, xb = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)) + 1, w)
    ya, yb = max(int(np.floor(y0)), 0), min(int(np.ceil(y1)) + 1, h)
    if xa >= xb or ya >= yb:
        return None
    ys = np.arange(ya, yb, dtype=np.float32)[:, None]
    xs = np.arange(xa, xb, dtype=np.float32)[None, :]
    return (slice(ya, yb), slice(xa, xb)), ys, xs


def _paint(labels: np.ndarray, box, mask: np.ndarray, cls: int, onto: tuple[int, ...] | None):
    sub = labels[box]
    if onto is not None:
        mask = mask & np.isin(sub, onto)
    sub[mask] = cls


def ridge(
    rng: np.random.Generator,
    w: int,
    base: float,
    height: float,
    roughness: float = 1.6,
    peakiness: float = 1.0,
) -> np.ndarray:
    """Top row of a ridge for every column: a fractal profile above ``base``.

    A random envelope lets ranges rise from one side or end in a headland.
    """
    p = noise.fractal_1d(rng, w, roughness)
    p = (p - p.min()) / (np.ptp(p) + 1e-6)
    p = p**peakiness
    t = np.linspace(0.0, 1.0, w, dtype=np.float32)
    kind = rng.integers(4)
    if kind == 1:
        env = noise.smoothstep(rng.uniform(0.2, 0.8), 1.0, t) if rng.random() < 0.5 else \
            noise.smoothstep(rng.uniform(0.2, 0.8), 1.0, 1.0 - t)
        env = 0.15 + 0.85 * env
    elif kind == 2:
        c, s = rng.uniform(0.2, 0.8), rng.uniform(0.25, 0.6)
        env = 0.2 + 0.8 * np.exp(-(((t - c) / s) ** 2))
    else:
        env = np.ones_like(t)
    return (base - height * (0.12 + 0.88 * p) * env).astype(np.float32)


def fill_below(labels: np.ndarray, top: np.ndarray, bottom: np.ndarray | float, cls: int,
               onto: tuple[int, ...] | None = None) -> None:
    """Paint ``cls`` between per-column rows ``top`` and ``bottom``."""
    h = labels.shape[0]
    ys = np.arange(h, dtype=np.float32)[:, None]
    mask = (ys >= top[None, :]) & (ys < np.broadcast_to(bottom, top.shape)[None, :])
    if onto is not None:
        mask &= np.isin(labels, onto)
    labels[mask] = cls


def blob(
    rng: np.random.Generator,
    labels: np.ndarray,
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    cls: int,
    ragged: float = 0.25,
    flat_bottom: float | None = None,
    onto: tuple[int, ...] | None = None,
) -> None:
    """A noisy-edged ellipse; ``flat_bottom`` cuts it at that row (objects on ground)."""
    h, w = labels.shape
    got = _bbox(h, w, cx - rx * 1.4, cx + rx * 1.4, cy - ry * 1.4, cy + ry * 1.4)
    if got is None:
        return
    box, ys, xs = got
    d = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2
    sc = float(np.clip(60.0 / max(rx, 1.0), 0.75, 8.0))
    n = noise.sample(rng, "fbm", d.shape, sc, sc)
    mask = d < 1.0 + ragged * n
    if flat_bottom is not None:
        mask &= ys < flat_bottom
    _paint(labels, box, mask, cls, onto)


def deciduous_tree(rng: np.random.Generator, labels: np.ndarray, x0: float, y0: float,
                   r: float, cls: int) -> None:
    """A canopy of overlapping lobes standing on the ground at (x0, y0)."""
    h, w = labels.shape
    k = int(rng.integers(3, 7))
    cx = x0 + r * rng.uniform(-0.55, 0.55, k)
    cy = y0 - r * (1.0 + rng.uniform(-0.5, 0.6, k)) * rng.uniform(0.9, 1.4)
    rr = r * rng.uniform(0.45, 0.75, k)
    got = _bbox(h, w, x0 - 1.4 * r, x0 + 1.4 * r, (cy - rr).min() - 2, y0 + 1)
    if got is None:
        return
    box, ys, xs = got
    sc = float(np.clip(50.0 / max(r, 1.0), 0.75, 8.0))
    n = noise.sample(rng, "fbm", (ys.shape[0], xs.shape[1]), sc, sc)
    acc = np.zeros(n.shape, bool)
    for i in range(k):
        d = ((xs - cx[i]) ** 2 + ((ys - cy[i]) * 1.1) ** 2) / rr[i] ** 2
        acc |= d < 1.0 + 0.22 * n
    acc &= ys <= y0
    _paint(labels, box, acc, cls, None)


def conifer(rng: np.random.Generator, labels: np.ndarray, x0: float, y0: float,
            r: float, cls: int) -> None:
    """A narrow, tiered spruce silhouette of height ~2.5r with its base at (x0, y0)."""
    h, w = labels.shape
    height = r * rng.uniform(2.0, 3.2)
    half = r * rng.uniform(0.38, 0.55)
    got = _bbox(h, w, x0 - half * 1.3, x0 + half * 1.3, y0 - height, y0 + 1)
    if got is None:
        return
    box, ys, xs = got
    t = np.clip((ys - (y0 - height)) / height, 0.0, 1.0)
    tiers = rng.uniform(5, 9)
    saw = (t * tiers) % 1.0
    sc = max(20.0 / max(r, 1.0), 1.5)
    n = noise.sample(rng, "grain", (ys.shape[0], xs.shape[1]), sc, sc)
    width = half * t**0.9 * (0.7 + 0.45 * saw) * (1.0 + 0.15 * n)
    _paint(labels, box, np.abs(xs - x0) < width, cls, None)


def rock(rng: np.random.Generator, labels: np.ndarray, x0: float, y0: float, r: float,
         cls: int) -> None:
    """An angular boulder sitting on the ground line ``y0``."""
    h, w = labels.shape
    got = _bbox(h, w, x0 - 1.5 * r, x0 + 1.5 * r, y0 - 1.6 * r, y0 + 0.2 * r)
    if got is None:
        return
    box, ys, xs = got
    prof = noise.fractal_1d(rng, 64, 1.2)
    aspect = rng.uniform(1.0, 1.6)
    ang = np.arctan2(ys - y0, (xs - x0) / aspect)
    idx = ((ang + np.pi) / (2 * np.pi) * 63).astype(np.int64)
    rad = r * (1.0 + 0.18 * prof[idx])
    d = np.hypot((xs - x0) / aspect, ys - y0)
    _paint(labels, box, (d < rad) & (ys <= y0 + 0.15 * r), cls, None)
