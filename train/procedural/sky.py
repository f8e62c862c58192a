"""Sky: three-stop gradient, sun glow and disc, perspective clouds lit by the sun."""

from __future__ import annotations

import numpy as np

from . import noise
from .geometry import Geometry
from .settings import Setting


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t[..., None]


def render_sky(geo: Geometry, st: Setting, sun_xy: tuple[float, float], rows: int,
               rng: np.random.Generator) -> np.ndarray:
    """Sky colour for rows 0:rows over the full width, (rows, W, 3) float32."""
    h, w, hz = geo.h, geo.w, geo.horizon
    ys = np.arange(rows, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    t = np.clip((hz - ys) / max(hz, 1.0), 0.0, 1.0)
    zen, mid, hor = (np.asarray(c, np.float32) for c in (st.zenith, st.mid, st.horizon))
    low = _mix(hor, mid, noise.smoothstep(0.0, 0.45, t) * np.ones_like(xs))
    col = _mix(low, zen, noise.smoothstep(0.3, 1.0, t)[:, 0:1] * np.ones_like(xs))

    sx, sy = sun_xy
    d = np.sqrt(((xs - sx) / w) ** 2 + ((ys - sy) / w * 1.6) ** 2)
    sun = np.asarray(st.sun, np.float32)
    glow = st.glow * (0.55 * np.exp(-d / 0.09) + 0.45 * np.exp(-d / 0.45)) * (1.0 - 0.5 * t)
    col = col + glow[..., None] * sun * 0.6

    # clouds on a plane above the camera: flattened and smaller near the horizon
    yd = np.maximum(hz - ys, 0.0) + 0.1 * hz + 1.0
    c = 1.4 * hz * st.cloud_scale  # at scale 1, about one texel per pixel at the top of the frame
    gy = c * hz / yd
    gx = (xs - geo.cx) * (c / yd) * 0.7
    field = noise.Field(rng, st.cloud_kind)
    n = field(gy, gx)
    thr = (0.5 - st.cloud_cover) * 2.4
    dens = noise.smoothstep(thr - 0.2, thr + 0.9, n)
    dens *= noise.smoothstep(0.0, 0.12, t)
    # cheap self-shadowing: density toward the sun minus density here
    to_sun = 3.0 if sx > geo.cx else -3.0
    lit = np.clip(0.6 + st.cloud_relief * (n - field(gy - 2.0, gx + to_sun)), 0.0, 1.0)
    near_sun = np.exp(-d / 0.25)[..., None]
    c_lit = np.asarray(st.cloud_lit, np.float32) * (1.0 + 0.4 * near_sun * st.glow)
    ccol = _mix(np.broadcast_to(np.asarray(st.cloud_shade, np.float32), col.shape), c_lit, lit)
    ccol = _mix(ccol, np.broadcast_to(hor, col.shape), 0.5 * (1.0 - noise.smoothstep(0.0, 0.35, t)))
    col = _mix(col, ccol, dens * 0.95)

    sun_r = 0.03
    if 0 < st.sun_height < 0.35 and st.backlight > 0:
        disc = noise.smoothstep(sun_r, sun_r * 0.7, d) * (1.0 - 0.85 * dens)
        col = _mix(col, np.broadcast_to(np.minimum(sun * 1.25, 1.0), col.shape), disc)
    return col.astype(np.float32)
