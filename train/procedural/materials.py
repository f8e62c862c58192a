"""Per-class materials: albedo texture and surface normal for a band of rows.

Each material works on the rows r0:r1 that contain its class (full width) and
returns ``(albedo (n, W, 3), normal (3 arrays of (n, W)))`` in a camera frame:
x right, y up, z toward the viewer. Only the pixels of the class are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import noise
from .classes import (
    EARTH, FIELD, FLOWER, GRASS, HILL, MOUNTAIN, PATH, PLANT, ROCK, SAND, TREE, WATERFALL,
)
from .geometry import Geometry

Normal = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class Band:
    geo: Geometry
    rng: np.random.Generator
    r0: int
    r1: int
    cls: int

    @property
    def shape(self) -> tuple[int, int]:
        return (self.r1 - self.r0, self.geo.w)

    def ground(self, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        return self.geo.ground_coords(self.r0, self.r1, scale)

    def field(self, kind: str) -> noise.Field:
        return noise.Field(self.rng, kind)

    def flat(self, kind: str, sy: float = 1.0, sx: float = 1.0) -> np.ndarray:
        return noise.sample(self.rng, kind, self.shape, sy, sx)

    def z(self) -> np.ndarray:
        return self.geo.z_row[self.r0 : self.r1, None]

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Distance (px) of each pixel below its run's top and above its bottom."""
        ys = np.arange(self.r0, self.r1, dtype=np.float32)[:, None]
        top = self.geo.run_top[self.r0 : self.r1]
        bot = self.geo.run_bottom[self.r0 : self.r1]
        return ys - top, bot - ys

    def colour(self, *options: tuple[float, float, float]) -> np.ndarray:
        c = np.asarray(options[int(self.rng.integers(len(options)))], np.float32)
        return c * self.rng.uniform(0.9, 1.1, 3).astype(np.float32)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t[..., None]


def _up(shape: tuple[int, int], bump_x: np.ndarray | float = 0.0) -> Normal:
    nx = np.broadcast_to(np.asarray(bump_x, np.float32), shape)
    return nx, np.ones(shape, np.float32), np.full(shape, 0.25, np.float32)


def _grass(b: Band) -> tuple[np.ndarray, Normal]:
    gy, gx = b.ground(1.0)
    patches = b.field("smooth")(gy * 0.25, gx * 0.25)
    lush = b.colour((0.22, 0.42, 0.10), (0.28, 0.44, 0.12), (0.20, 0.36, 0.12))
    dry = b.colour((0.52, 0.52, 0.22), (0.40, 0.46, 0.16))
    alb = _lerp(np.broadcast_to(lush, b.shape + (3,)), dry, noise.smoothstep(-0.5, 1.8, patches))
    blades = b.field("grain")(gy * 3.0, gx * 0.5)
    amp = 0.10 + 0.22 * b.z()
    alb = alb * (1.0 + amp * blades)[..., None]
    return alb, _up(b.shape, 0.25 * blades)


def _field(b: Band) -> tuple[np.ndarray, Normal]:
    gy, gx = b.ground(1.0)
    crop = b.colour((0.78, 0.64, 0.30), (0.42, 0.56, 0.16), (0.55, 0.40, 0.60), (0.46, 0.34, 0.22))
    ang = b.rng.uniform(-0.8, 0.8)
    coord = gx * np.cos(ang) + gy * np.sin(ang) * 3.0
    rows = np.sin(coord * b.rng.uniform(0.4, 0.9) + 1.5 * b.field("smooth")(gy, gx))
    tex = b.field("grain")(gy * 4.0, gx * 1.5)
    light = 1.0 + (0.12 + 0.1 * b.z()) * rows + 0.08 * tex
    alb = crop[None, None, :] * light[..., None]
    return alb, _up(b.shape, 0.15 * rows)


def _earth(b: Band) -> tuple[np.ndarray, Normal]:
    gy, gx = b.ground(1.5)
    base = b.colour((0.45, 0.35, 0.25), (0.40, 0.33, 0.26), (0.52, 0.42, 0.30))
    clods = b.field("rough")(gy, gx)
    pebbles = noise.smoothstep(1.4, 2.0, b.field("grain")(gy * 2.0, gx * 2.0))
    v = 1.0 + 0.15 * clods + 0.25 * pebbles
    return base * v[..., None], _up(b.shape, 0.3 * clods)


def _sand(b: Band) -> tuple[np.ndarray, Normal]:
    gy, gx = b.ground(1.0)
    base = b.colour((0.76, 0.68, 0.52), (0.72, 0.64, 0.50), (0.80, 0.73, 0.60))
    warp = b.field("smooth")(gy * 0.5, gx * 0.5)
    ripples = np.sin(gy * 1.5 + gx * 0.2 + 3.0 * warp)
    grain = b.flat("grain", 2.0, 2.0)
    v = 1.0 + 0.05 * ripples + 0.04 * grain + 0.06 * warp
    return base * v[..., None], _up(b.shape, 0.2 * ripples)


def _path(b: Band) -> tuple[np.ndarray, Normal]:
    gy, gx = b.ground(2.0)
    base = b.colour((0.62, 0.53, 0.40), (0.58, 0.50, 0.42), (0.66, 0.60, 0.50))
    gravel = b.field("grain")(gy, gx)
    stains = b.field("smooth")(gy * 0.2, gx * 0.2)
    v = 1.0 + 0.1 * gravel - 0.08 * stains
    return base * v[..., None], _up(b.shape, 0.2 * gravel)


def _ridge_normal(b: Band, relief: float, gully: float) -> tuple[Normal, np.ndarray]:
    """Mountain/hill faces: lateral tilt from the smoothed ridge-line slope plus
    downhill gullies from ridged noise; returns the normal and the gully term."""
    below, _ = b.run()
    top = b.geo.run_top[b.r0 : b.r1].astype(np.float32)
    r = max(2, b.geo.w // 64)
    smooth = noise.box_blur_x(top, r)
    slope = np.clip(noise.gradient(smooth, 1), -2.5, 2.5)
    fade = np.exp(-below / (0.25 * b.geo.h))
    g = b.flat("rough", 1.2, 2.0)
    gullies = 1.0 - np.abs(g)
    gx = noise.gradient(gullies, 1)
    nx = relief * slope * fade + gully * gx * 4.0 + 0.3 * g * (1 - fade)
    ny = np.full(b.shape, 0.55, np.float32) - 0.2 * fade
    nz = np.ones(b.shape, np.float32)
    return (nx, ny, nz), gullies


def _mountain(b: Band) -> tuple[np.ndarray, Normal]:
    normal, gullies = _ridge_normal(b, 0.9, 1.0)
    rock = b.colour((0.46, 0.43, 0.40), (0.42, 0.40, 0.40), (0.50, 0.44, 0.38))
    veg = b.colour((0.24, 0.30, 0.16), (0.30, 0.33, 0.20))
    below, above = b.run()
    frac = below / (below + above + 1.0)
    strata = np.sin(np.arange(b.r0, b.r1, dtype=np.float32)[:, None] * 0.9 + 4 * b.flat("fbm", 0.5, 1.0))
    cover = noise.smoothstep(0.3, 0.9, frac + 0.25 * b.flat("fbm", 1.5, 1.5))
    alb = _lerp(np.broadcast_to(rock, b.shape + (3,)), veg, cover)
    alb = alb * (0.85 + 0.15 * gullies + 0.05 * strata)[..., None]
    return alb, normal


def _hill(b: Band) -> tuple[np.ndarray, Normal]:
    normal, _ = _ridge_normal(b, 0.6, 0.25)
    base = b.colour((0.30, 0.42, 0.15), (0.36, 0.44, 0.18), (0.42, 0.44, 0.22))
    dark = b.colour((0.16, 0.26, 0.10))
    scrub = noise.smoothstep(0.6, 1.6, b.flat("fbm", 3.0, 2.0))
    tex = b.flat("grain", 1.0, 1.0)
    alb = _lerp(np.broadcast_to(base, b.shape + (3,)), dark, scrub) * (1 + 0.06 * tex)[..., None]
    return alb, normal


def _dome(b: Band) -> Normal:
    """A rounded normal from the gradient of the class's blurred silhouette:
    edges bulge outward, interiors face the viewer."""
    same = (b.geo.labels[b.r0 : b.r1] == b.cls).astype(np.float32)
    r = max(2, b.geo.w // 48)
    soft = noise.box_blur_y(noise.box_blur_x(same, r), r)
    soft = noise.box_blur_y(noise.box_blur_x(soft, r), r)
    gy, gx = noise.gradient(soft, 0), noise.gradient(soft, 1)
    k = 2.5 * r
    return -gx * k, gy * k + 0.15, np.full(b.shape, 0.8, np.float32)


def _foliage(b: Band, base: np.ndarray, clump_size: float) -> tuple[np.ndarray, Normal]:
    nx, ny, nz = _dome(b)
    f = b.field("fbm")
    ys = np.arange(b.shape[0], dtype=np.float32)[:, None] * clump_size
    xs = np.arange(b.shape[1], dtype=np.float32)[None, :] * clump_size
    c = f(ys, xs)
    lit = c - f(ys - 2.0, xs - 1.0)  # clumps catch light on their upper-left side
    gaps = noise.smoothstep(-1.4, -0.4, c)
    leaf = b.flat("grain", 1.5, 1.5)
    v = (0.45 + 0.55 * gaps) * (1.0 + 0.12 * leaf)
    return base * v[..., None], (nx + 0.8 * lit, ny + 0.8 * lit, nz)


def _tree(b: Band) -> tuple[np.ndarray, Normal]:
    base = b.colour((0.16, 0.30, 0.10), (0.12, 0.24, 0.10), (0.22, 0.34, 0.12),
                    (0.10, 0.20, 0.12))
    if b.rng.random() < 0.08:
        base = b.colour((0.55, 0.30, 0.08), (0.60, 0.50, 0.12))
    hue = 1.0 + 0.12 * b.flat("smooth", 0.5, 0.5)[..., None] * np.array([1.0, 0.5, -0.5], np.float32)
    return _foliage(b, base * hue, 2.0)


def _plant(b: Band) -> tuple[np.ndarray, Normal]:
    base = b.colour((0.24, 0.38, 0.12), (0.30, 0.40, 0.14), (0.20, 0.32, 0.14))
    return _foliage(b, np.broadcast_to(base, b.shape + (3,)), 3.0)


def _flower(b: Band) -> tuple[np.ndarray, Normal]:
    green = b.colour((0.24, 0.40, 0.12))
    petals = b.colour((0.85, 0.15, 0.15), (0.95, 0.85, 0.20), (0.60, 0.35, 0.75),
                      (0.95, 0.95, 0.92), (0.95, 0.55, 0.70))
    gy, gx = b.ground(1.0)
    dots = noise.smoothstep(0.2, 0.9, b.field("grain")(gy * 3.0, gx * 3.0))
    alb = _lerp(np.broadcast_to(green, b.shape + (3,)), petals, dots)
    return alb, _up(b.shape, 0.3 * dots)


def _rock(b: Band) -> tuple[np.ndarray, Normal]:
    nx, ny, nz = _dome(b)
    base = b.colour((0.50, 0.48, 0.45), (0.45, 0.44, 0.44), (0.55, 0.50, 0.44))
    ys = np.arange(b.r0, b.r1, dtype=np.float32)[:, None]
    warp = b.flat("fbm", 1.5, 1.5)
    strata = np.sin(ys * 0.8 + 3.0 * warp)
    facets = b.flat("rough", 2.0, 2.0)
    moss = noise.smoothstep(0.8, 1.6, b.flat("smooth", 2.0, 2.0) + ny)
    alb = base * (0.9 + 0.08 * strata + 0.07 * facets)[..., None]
    alb = _lerp(alb, np.asarray((0.28, 0.34, 0.16), np.float32), 0.6 * moss)
    return alb, (nx + 0.5 * facets, ny + 0.3 * strata, nz)


def _waterfall(b: Band) -> tuple[np.ndarray, Normal]:
    streaks = b.flat("grain", 0.15, 3.0)
    foam = np.asarray((0.90, 0.93, 0.95), np.float32)
    alb = foam * (0.85 + 0.12 * streaks)[..., None]
    return alb, (np.zeros(b.shape, np.float32), np.full(b.shape, 0.3, np.float32),
                 np.ones(b.shape, np.float32))


MATERIALS = {
    GRASS: _grass, FIELD: _field, EARTH: _earth, SAND: _sand, PATH: _path,
    MOUNTAIN: _mountain, HILL: _hill, TREE: _tree, PLANT: _plant, FLOWER: _flower,
    ROCK: _rock, WATERFALL: _waterfall,
}
# Classes that stand up from the ground and cast shadows onto it.
CASTERS = (TREE, PLANT, ROCK)
