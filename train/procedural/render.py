"""Photo-like rendering of a label map under a lighting setting.

Every pixel's colour is computed from its own class's material, so the
image aligns exactly with the labels: textures, shading, shadows and haze
only modulate a class's colour inside that class's pixels.
"""

from __future__ import annotations

import numpy as np

from . import noise
from .classes import GROUND_CLASSES, HILL, MOUNTAIN, PLANT, ROCK, SKY, TREE, WATER_CLASSES
from .geometry import Geometry
from .materials import CASTERS, MATERIALS, Band
from .settings import Setting, get_setting
from .sky import render_sky
from .water import render_water

_SNOW = np.asarray((0.93, 0.95, 0.98), np.float32)


def _light_dir(st: Setting, side: float) -> np.ndarray:
    elev = np.radians(np.clip(st.sun_height * 70.0, 3.0, 60.0))
    c = 1.0 - 2.0 * st.backlight  # 1: sun behind the viewer, -1: sun ahead
    horiz = np.cos(elev)
    v = np.array([horiz * side * np.sqrt(max(1 - c * c, 0.0)) + 0.2 * side, np.sin(elev), horiz * c])
    return (v / np.linalg.norm(v)).astype(np.float32)


def _shadow_map(geo: Geometry, light: np.ndarray) -> np.ndarray:
    """Soft shadows cast onto the ground just below and beside standing objects."""
    lab = geo.labels
    casters = np.isin(lab, CASTERS).astype(np.float32)
    if not casters.any():
        return np.zeros(lab.shape, np.float32)
    s = max(1, geo.w // 64)
    dx = int(round(-light[0] * 3 * s))
    dy = int(round((1.0 + max(-light[2], 0.0) * 3.0) * s))
    shifted = np.zeros_like(casters)
    h, w = lab.shape
    ys, yd = (slice(dy, h), slice(0, h - dy))
    xs, xd = (slice(max(dx, 0), w + min(dx, 0)), slice(max(-dx, 0), w - max(dx, 0)))
    shifted[ys, xs] = casters[yd, xd]
    shadow = noise.box_blur_y(noise.box_blur_x(np.maximum(shifted, casters), s), s)
    return np.clip(shadow * 1.6, 0.0, 1.0) * np.isin(lab, GROUND_CLASSES)


def _snow_cover(cls: int, b: Band, normal: tuple[np.ndarray, ...], snowy: bool) -> np.ndarray | None:
    below, above = b.run()
    if cls in (MOUNTAIN, HILL):
        frac = below / (below + above + 1.0)
        line = 0.35 if not snowy else 0.9
        n = b.flat("fbm", 2.0, 1.0)
        steep = np.abs(normal[0])
        cover = noise.smoothstep(line + 0.1, line - 0.1, frac + 0.15 * n + 0.15 * steep)
        return cover * (0.6 + 0.4 * noise.smoothstep(-1.0, 0.5, b.flat("rough", 1.0, 2.0)))
    if not snowy:
        return None
    if cls in (TREE, PLANT):
        return 0.75 * noise.smoothstep(0.5, 1.1, normal[1] + 0.3 * b.flat("grain", 2.0, 2.0))
    if cls == ROCK:
        return noise.smoothstep(0.3, 0.8, normal[1])
    return 0.85 + 0.15 * noise.smoothstep(-1.5, 0.0, b.flat("fbm", 2.0, 2.0))


def render_image(labels: np.ndarray, setting: str, seed: int) -> np.ndarray:
    """Render a photo-like (H, W, 3) uint8 image for an ADE20K label map.

    Deterministic in (labels, setting, seed). Unknown classes are rendered as
    flat grey ground.
    """
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    rng = np.random.default_rng([seed, 2])
    st = get_setting(setting, rng)
    geo = Geometry(labels)
    h, w, hz = geo.h, geo.w, geo.horizon
    side = 1.0 if rng.random() < 0.5 else -1.0
    sun_xy = (w * (0.5 + side * rng.uniform(0.1, 0.4)), hz - st.sun_height * h)
    light = _light_dir(st, side)
    sun = np.asarray(st.sun, np.float32) * st.sun_strength
    amb = np.asarray(st.ambient, np.float32)
    haze_col = np.asarray(st.horizon, np.float32) * 0.9 + 0.1 * np.asarray(st.mid, np.float32)
    caps = st.snow or rng.random() < 0.35

    img = np.zeros((h, w, 3), np.float32)
    sky_rows = max(int(np.ceil(hz)) + 1, int(np.flatnonzero((labels == SKY).any(1)).max(initial=0)) + 1)
    sky = render_sky(geo, st, sun_xy, min(sky_rows, h), rng)
    m = labels[: sky.shape[0]] == SKY
    img[: sky.shape[0]][m] = sky[m]
    shadow = _shadow_map(geo, light)

    present = [int(c) for c in np.unique(labels) if c != SKY and c not in WATER_CLASSES]
    for cls in present:
        rows = np.flatnonzero((labels == cls).any(axis=1))
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        b = Band(geo, rng, r0, r1, cls)
        mat = MATERIALS.get(cls)
        if mat is None:
            alb = np.full(b.shape + (3,), 0.45, np.float32)
            normal = (np.zeros(b.shape, np.float32), np.ones(b.shape, np.float32), np.zeros(b.shape, np.float32))
        else:
            alb, normal = mat(b)
        nx, ny, nz = normal
        inv = 1.0 / np.sqrt(nx * nx + ny * ny + nz * nz + 1e-6)
        ndl = (nx * light[0] + ny * light[1] + nz * light[2]) * inv
        diffuse = np.clip((ndl + 0.15) / 1.15, 0.0, 1.0) * (1.0 - 0.75 * shadow[r0:r1])
        cover = _snow_cover(cls, b, normal, st.snow) if (caps or st.snow) else None
        if cover is not None:
            alb = alb + (_SNOW - alb) * np.clip(cover, 0.0, 1.0)[..., None]
        sky_light = 0.75 + 0.25 * np.clip(ny * inv, 0.0, 1.0)
        col = alb * (amb * sky_light[..., None] + sun * diffuse[..., None]) * 0.85
        haze = st.haze * (1.0 - np.exp(-1.6 * geo.distance(r0, r1)))
        col = col + (haze_col - col) * haze[..., None]
        dst = img[r0:r1]
        sel = labels[r0:r1] == cls
        dst[sel] = col[sel]

    render_water(img, sky, geo, st, sun_xy, rng)
    return _finish(img, st, rng)


def _finish(img: np.ndarray, st: Setting, rng: np.random.Generator) -> np.ndarray:
    h, w, _ = img.shape
    x = img * st.exposure
    lum = x.mean(axis=2, keepdims=True)
    x = lum + (x - lum) * st.saturation
    x = x / (1.0 + 0.25 * np.maximum(x - 0.8, 0.0))  # soft shoulder for highlights
    yy = (np.arange(h, dtype=np.float32)[:, None] / h - 0.5) ** 2
    xx = (np.arange(w, dtype=np.float32)[None, :] / w - 0.5) ** 2
    x = x * (1.0 - 0.35 * (yy + xx))[..., None]
    grain = noise.sample(rng, "grain", (h, w), 1.0, 1.0)
    x = x + (0.012 * grain)[..., None]
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
