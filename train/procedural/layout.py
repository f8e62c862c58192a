"""Random natural landscape label maps (ADE20K ids).

Composition is painted back to front so nearer things occlude farther ones:
sky, far mountain ranges, hills, ground and water below the horizon, rivers
and paths, tree lines, individual trees (far to near, growing toward the
viewer), then foreground rocks, bushes and flowers.
"""

from __future__ import annotations

import numpy as np

from . import noise, shapes
from .classes import (
    EARTH, FIELD, FLOWER, GRASS, HILL, LAKE, MOUNTAIN, PATH, PLANT, RIVER, ROCK, SAND, SEA,
    SKY, TREE, WATER, WATERFALL,
)

LAND = (GRASS, EARTH, FIELD, SAND, FLOWER, PATH)


def _pick(rng: np.random.Generator, options: dict) -> object:
    keys = list(options)
    p = np.asarray(list(options.values()), float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _ranges(rng: np.random.Generator, lab: np.ndarray, hz: float) -> None:
    """Layered mountain and hill ridges standing on the horizon, far to near."""
    h, w = lab.shape
    n = int(_pick(rng, {0: 0.12, 1: 0.3, 2: 0.33, 3: 0.25}))
    for i in range(n):
        near = i / max(n - 1, 1)
        if i == n - 1 and n > 1 and rng.random() < 0.6:
            cls, height, rough, peak = HILL, h * rng.uniform(0.04, 0.14), 2.0, 0.8
        else:
            cls = MOUNTAIN
            height = h * rng.uniform(0.12, 0.38) * (1.0 - 0.4 * near)
            rough, peak = rng.uniform(1.3, 1.8), rng.uniform(1.0, 1.8)
        top = shapes.ridge(rng, w, hz + 1, min(height, hz - 2), rough, peak)
        shapes.fill_below(lab, top, hz + 1, cls)


def _ground(rng: np.random.Generator, lab: np.ndarray, hz: float) -> int:
    """Fill below the horizon with the base ground; returns its class."""
    h, w = lab.shape
    base = int(_pick(rng, {GRASS: 0.6, FIELD: 0.15, EARTH: 0.12, SAND: 0.05, -1: 0.08}))
    if base == -1:
        base = GRASS
    lab[int(np.ceil(hz)) :, :] = base
    ys = np.arange(h)[:, None]
    if rng.random() < 0.45:
        # cultivated bands across the middle distance
        for _ in range(int(rng.integers(1, 4))):
            y0 = hz + (h - hz) * rng.uniform(0.02, 0.5)
            thick = (h - hz) * rng.uniform(0.04, 0.18)
            slope = rng.uniform(-0.15, 0.15)
            edge = y0 + slope * (np.arange(w) - w / 2) + noise.fractal_1d(rng, w, 2.0) * thick * 0.1
            cls = FIELD if base != FIELD else GRASS
            shapes.fill_below(lab, edge.astype(np.float32), edge + thick, cls, onto=LAND)
    if rng.random() < 0.5:
        # bare earth patches, squashed by perspective
        n = noise.sample(rng, "smooth", lab.shape, 3.0, 0.8)
        thr = rng.uniform(0.9, 1.6)
        lab[(n > thr) & (ys > hz + 2) & np.isin(lab, (GRASS, FIELD))] = EARTH
    return base


def _near_hill(rng: np.random.Generator, lab: np.ndarray, hz: float) -> None:
    """A rolling hill rising from the middle distance, in front of the far ranges."""
    h, w = lab.shape
    base = hz + (h - hz) * rng.uniform(0.04, 0.3)
    top = shapes.ridge(rng, w, base, h * rng.uniform(0.06, 0.22), 2.4, 1.0)
    shapes.fill_below(lab, top, base + 1, HILL)


def _shore(rng: np.random.Generator, w: int, y: float, wobble: float) -> np.ndarray:
    return (y + noise.fractal_1d(rng, w, 1.8) * wobble).astype(np.float32)


def _water(rng: np.random.Generator, lab: np.ndarray, hz: float, mode: str) -> None:
    h, w = lab.shape
    depth = h - hz
    if mode == "sea":
        shore = _shore(rng, w, hz + depth * rng.uniform(0.2, 0.6), depth * 0.04)
        shore += np.linspace(0, 1, w, dtype=np.float32) * depth * rng.uniform(-0.15, 0.15)
        shapes.fill_below(lab, np.full(w, hz, np.float32), shore, SEA)
        beach = SAND if rng.random() < 0.75 else ROCK
        shapes.fill_below(lab, shore, shore + depth * rng.uniform(0.1, 0.5), beach)
    elif mode == "lake":
        far = _shore(rng, w, hz + depth * rng.uniform(0.0, 0.06), depth * 0.01)
        near = _shore(rng, w, hz + depth * rng.uniform(0.25, 0.6), depth * 0.06)
        near += np.linspace(0, 1, w, dtype=np.float32) * depth * rng.uniform(-0.2, 0.2)
        shapes.fill_below(lab, far, near, LAKE)
        if rng.random() < 0.6:
            bank = SAND if rng.random() < 0.5 else EARTH
            shapes.fill_below(lab, near, near + depth * rng.uniform(0.03, 0.1), bank)
    elif mode == "pond":
        cy = hz + depth * rng.uniform(0.25, 0.7)
        p = (cy - hz) / depth
        shapes.blob(rng, lab, w * rng.uniform(0.2, 0.8), cy, w * rng.uniform(0.1, 0.35) * (0.4 + p),
                    depth * rng.uniform(0.04, 0.1) * (0.4 + p), WATER, 0.15, onto=LAND)


def _winding(rng: np.random.Generator, lab: np.ndarray, hz: float, cls: int, width: float,
             start: float) -> None:
    """A river or path in perspective: meanders in ground space, converges at the horizon."""
    h, w = lab.shape
    ys = np.arange(h, dtype=np.float32)
    z = np.maximum(ys - hz, 0.0) / (h - hz)  # 0 at the horizon, 1 at the bottom
    vp = w * rng.uniform(0.25, 0.75)
    dist = 1.0 / (z + 0.06)  # ground distance along the view direction
    amp, freq, ph = rng.uniform(0.3, 1.2), rng.uniform(0.15, 0.5), rng.uniform(0, 2 * np.pi)
    drift = rng.uniform(-0.5, 0.5)
    xc = vp + w * z * (amp * np.sin(dist * freq + ph) + drift)
    half = 0.5 * w * width * (z + 0.01) * (1.0 + 0.15 * np.sin(dist * 0.7 + ph))
    xs = np.arange(w, dtype=np.float32)[None, :]
    wob = noise.sample(rng, "fbm", lab.shape, 2.0, 2.0) * half[:, None] * 0.12
    mask = (np.abs(xs - xc[:, None] + wob) < half[:, None]) & (ys[:, None] > start)
    lab[mask & np.isin(lab, LAND + (HILL,))] = cls


def _treeline(rng: np.random.Generator, lab: np.ndarray, base: np.ndarray, h_tl: float) -> None:
    w = lab.shape[1]
    bumps = noise.fractal_1d(rng, w, 2.2)
    if rng.random() < 0.5:
        xs = np.arange(w)
        period = rng.uniform(3, 9)
        spikes = 1.0 - np.abs(((xs + rng.uniform(0, period)) / period) % 1.0 - 0.5) * 2
        top = base - h_tl * (0.55 + 0.45 * spikes) * (1 + 0.12 * bumps)
    else:
        top = base - h_tl * (0.7 + 0.3 * np.abs(bumps))
    t = np.linspace(0, 1, w)
    a, b = sorted(rng.uniform(-0.3, 1.3, 2))
    keep = (t > a) & (t < b) if rng.random() < 0.6 else np.ones(w, bool)
    top = np.where(keep, top, base + 1).astype(np.float32)
    shapes.fill_below(lab, top, base + 1, TREE, onto=(SKY, MOUNTAIN, HILL) + LAND)


def _trees(rng: np.random.Generator, lab: np.ndarray, hz: float, n: int) -> None:
    h, w = lab.shape
    depth = h - hz
    if n == 0:
        return
    clusters = w * rng.uniform(0.0, 1.0, int(rng.integers(1, 4)))
    xs = clusters[rng.integers(len(clusters), size=n)] + rng.normal(0, w * 0.12, n)
    xs = np.where(rng.random(n) < 0.3, rng.uniform(0, w, n), xs)
    ys = hz + depth * rng.uniform(0.02, 1.15, n) ** 1.6
    conifers = rng.random() < 0.4
    size = rng.uniform(0.6, 1.2)
    for i in np.argsort(ys):
        y, x = ys[i], xs[i]
        yi, xi = int(min(y, h - 1)), int(np.clip(x, 0, w - 1))
        if lab[yi, xi] not in LAND + (TREE, PLANT, HILL):
            continue
        r = size * (2.0 + 0.22 * w * (y - hz) / depth) * rng.uniform(0.7, 1.3)
        if conifers ^ (rng.random() < 0.15):
            shapes.conifer(rng, lab, x, y, r, TREE)
        else:
            shapes.deciduous_tree(rng, lab, x, y, r, TREE)


def _foreground(rng: np.random.Generator, lab: np.ndarray, hz: float) -> None:
    h, w = lab.shape
    depth = h - hz
    for _ in range(int(rng.poisson(1.2))):
        y = hz + depth * rng.uniform(0.35, 1.1)
        x = rng.uniform(0, w)
        if lab[int(min(y, h - 1)), int(x)] in LAND:
            shapes.rock(rng, lab, x, y, w * 0.09 * (y - hz) / depth * rng.uniform(0.4, 1.3) + 1, ROCK)
    for _ in range(int(rng.poisson(1.5))):
        y = hz + depth * rng.uniform(0.4, 1.1)
        x = rng.uniform(0, w)
        if lab[int(min(y, h - 1)), int(x)] in LAND:
            r = w * 0.08 * (y - hz) / depth * rng.uniform(0.5, 1.4) + 1
            shapes.blob(rng, lab, x, y - 0.35 * r, r, 0.6 * r, PLANT, 0.4, flat_bottom=y)
    if rng.random() < 0.4:
        for _ in range(int(rng.integers(1, 4))):
            y = hz + depth * rng.uniform(0.5, 0.95)
            r = w * rng.uniform(0.06, 0.22) * (y - hz) / depth
            shapes.blob(rng, lab, rng.uniform(0, w), y, r, r * 0.35, FLOWER, 0.6, onto=(GRASS, FIELD))


def _waterfall(rng: np.random.Generator, lab: np.ndarray, hz: float) -> None:
    """A thin fall down a mountain face into the water below it."""
    h, w = lab.shape
    lake = lab == LAKE
    cols = np.flatnonzero((lab[int(hz) - 1] == MOUNTAIN) & lake.any(axis=0))
    if cols.size == 0:
        return
    x = int(cols[rng.integers(cols.size)])
    rows = np.flatnonzero(lab[:, x] == MOUNTAIN)
    bottom = float(np.argmax(lake[:, x]))
    top = rows.min() + (hz - rows.min()) * rng.uniform(0.2, 0.6)
    half = max(1.0, w * rng.uniform(0.004, 0.012))
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    spread = half * (1.0 + 1.5 * np.clip((ys - top) / (bottom - top + 1), 0, 1))
    mask = (np.abs(xs - x) < spread) & (ys >= top) & (ys < bottom)
    mask &= np.isin(lab, (MOUNTAIN,) + LAND)
    lab[mask] = WATERFALL


def generate_layout(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random landscape label map of shape (height, width), dtype uint8."""
    h, w = height, width
    lab = np.full((h, w), SKY, np.uint8)
    hz = float(h * rng.uniform(0.3, 0.62))
    _ranges(rng, lab, hz)
    _ground(rng, lab, hz)
    mode = str(_pick(rng, {"none": 0.3, "lake": 0.3, "sea": 0.15, "pond": 0.1, "river": 0.15}))
    if mode in ("none", "river", "pond") and rng.random() < 0.35:
        _near_hill(rng, lab, hz)
    _water(rng, lab, hz, mode)
    if mode == "lake" and rng.random() < 0.3:
        _waterfall(rng, lab, hz)
    if mode in ("river", "none", "lake") and rng.random() < (0.9 if mode == "river" else 0.15):
        _winding(rng, lab, hz, RIVER, rng.uniform(0.25, 0.7), hz)
    if mode != "sea" and rng.random() < 0.3:
        _winding(rng, lab, hz, PATH, rng.uniform(0.08, 0.25), hz + (h - hz) * rng.uniform(0, 0.4))
    if mode != "sea" and rng.random() < 0.55:
        water_top = np.argmax(np.isin(lab, (LAKE, SEA)), axis=0)
        base = np.full(w, np.ceil(hz) + 1, np.float32)
        if mode == "lake":
            base = np.where(water_top > 0, water_top, base).astype(np.float32)
        _treeline(rng, lab, base, h * rng.uniform(0.015, 0.07))
    forest = rng.random()
    n_trees = int(rng.poisson(2 + 22 * forest**2)) if mode != "sea" else int(rng.poisson(0.7))
    _trees(rng, lab, hz, n_trees)
    _foreground(rng, lab, hz)
    if rng.random() < 0.5:
        lab = lab[:, ::-1].copy()
    return lab
