"""Water: mirrored sky and shoreline objects with ripples, Fresnel, waves, glints."""

from __future__ import annotations

import numpy as np

from . import noise
from .classes import GROUND_CLASSES, LAKE, RIVER, SEA, WATER, WATER_CLASSES
from .geometry import Geometry
from .settings import Setting

# class -> (deep colour, ripple strength, wave contrast)
_WATER = {
    SEA: ((0.06, 0.20, 0.32), 1.6, 0.20),
    LAKE: ((0.08, 0.18, 0.22), 0.7, 0.10),
    RIVER: ((0.12, 0.18, 0.16), 1.0, 0.12),
    WATER: ((0.10, 0.18, 0.20), 0.8, 0.10),
}


def render_water(img: np.ndarray, sky: np.ndarray, geo: Geometry, st: Setting,
                 sun_xy: tuple[float, float], rng: np.random.Generator) -> None:
    """Fill water pixels of ``img`` in place; ``img`` already holds everything else."""
    lab = geo.labels
    wet = np.isin(lab, WATER_CLASSES)
    rows = np.flatnonzero(wet.any(axis=1))
    if rows.size == 0:
        return
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    h, w, hz = geo.h, geo.w, geo.horizon
    band = lab[r0:r1]
    ys = np.arange(r0, r1, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    z = geo.z_row[r0:r1, None]
    gy, gx = geo.ground_coords(r0, r1, 1.0)

    strength = np.ones(band.shape, np.float32)
    deep = np.zeros(band.shape + (3,), np.float32)
    contrast = np.zeros(band.shape, np.float32)
    for cls, (col, ripple, cont) in _WATER.items():
        m = band == cls
        strength[m] = ripple
        deep[m] = col
        contrast[m] = cont

    f = noise.Field(rng, "fbm")
    waves = f(gy * 3.0, gx * 0.6)
    dwave = waves - f(gy * 3.0 + 1.0, gx * 0.6)
    amp = strength * (0.5 + 6.0 * z) * (w / 256.0)
    off_x = (amp * waves).astype(np.int64)
    off_y = (amp * 0.5 * dwave).astype(np.int64)

    top = geo.run_top[r0:r1]
    my = 2 * top - ys.astype(np.int64) - 1 + off_y
    mx = np.clip(xs.astype(np.int64) + off_x, 0, w - 1)
    valid = (my >= 0) & (my < h)
    myc = np.clip(my, 0, h - 1)
    mirrored_lab = lab[myc, mx]
    mirrored = img[myc, mx]
    use_obj = valid & ~np.isin(mirrored_lab, GROUND_CLASSES + WATER_CLASSES + (3,))
    sky_rows = np.clip((2 * hz - ys).astype(np.int64) + off_y, 0, sky.shape[0] - 1)
    refl = np.where(use_obj[..., None], mirrored * 0.85, sky[sky_rows, mx])

    fresnel = 0.25 + 0.7 * (1.0 - z) ** 2.5
    fresnel = np.clip(fresnel - 0.12 * (strength - 1.0), 0.1, 0.95)
    amb = np.asarray(st.ambient, np.float32) + 0.5 * st.sun_strength * np.asarray(st.sun, np.float32)
    body = deep * amb * 1.3
    col = body + (refl - body) * fresnel[..., None]
    col = col * (1.0 + contrast * dwave * 1.5)[..., None]

    sx, _ = sun_xy
    if st.sun_strength > 0.3:
        path = np.exp(-np.abs(xs - sx) / (w * (0.03 + 0.08 * z)))
        low_sun = 0.3 + 0.7 * st.backlight
        glint = noise.smoothstep(0.8, 1.8, dwave * 2.0 + waves) * path * low_sun
        col = col + glint[..., None] * np.asarray(st.sun, np.float32) * 0.8
    dst = img[r0:r1]
    m = band != 0
    m &= wet[r0:r1]
    dst[m] = col[m]
