"""Lighting settings: sky colours, sun position and colour temperature."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SETTINGS = ("day", "golden_hour", "sunset", "dusk", "overcast", "snow")

Colour = tuple[float, float, float]


@dataclass(frozen=True)
class Setting:
    """One lighting setting. Colours are sRGB in [0, 1].

    ``sun_height`` is the sun's height above the horizon as a fraction of the
    image height (negative: below the horizon, > horizon row: off-frame).
    ``backlight`` in [0, 1] is how much the sun shines toward the camera, which
    darkens the faces of mountains and trees. ``cloud_kind`` names the noise of
    the cloud layer, ``cloud_scale`` its texel density (below 1: larger, softer
    clouds) and ``cloud_relief`` the contrast of the clouds' self-shadowing.
    """

    name: str
    zenith: Colour
    mid: Colour
    horizon: Colour
    sun: Colour
    sun_strength: float
    ambient: Colour
    sun_height: float
    backlight: float
    glow: float
    cloud_cover: float
    cloud_lit: Colour
    cloud_shade: Colour
    haze: float
    exposure: float
    saturation: float
    snow: bool = False
    cloud_kind: str = "fbm"
    cloud_scale: float = 1.0
    cloud_relief: float = 0.9


_BASE = {
    "day": Setting(
        "day", zenith=(0.22, 0.42, 0.78), mid=(0.45, 0.64, 0.90), horizon=(0.74, 0.84, 0.94),
        sun=(1.0, 0.97, 0.90), sun_strength=0.95, ambient=(0.42, 0.47, 0.58),
        sun_height=0.9, backlight=0.25, glow=0.15, cloud_cover=0.35,
        cloud_lit=(1.0, 1.0, 1.0), cloud_shade=(0.66, 0.71, 0.80), haze=0.55,
        exposure=1.0, saturation=1.05,
    ),
    "golden_hour": Setting(
        "golden_hour", zenith=(0.30, 0.45, 0.72), mid=(0.72, 0.72, 0.70), horizon=(1.0, 0.82, 0.52),
        sun=(1.0, 0.78, 0.45), sun_strength=1.0, ambient=(0.40, 0.38, 0.42),
        sun_height=0.16, backlight=0.25, glow=0.55, cloud_cover=0.3,
        cloud_lit=(1.0, 0.86, 0.6), cloud_shade=(0.55, 0.50, 0.55), haze=0.6,
        exposure=1.0, saturation=1.1,
    ),
    "sunset": Setting(
        "sunset", zenith=(0.20, 0.18, 0.42), mid=(0.78, 0.40, 0.48), horizon=(1.0, 0.58, 0.25),
        sun=(1.0, 0.55, 0.28), sun_strength=0.8, ambient=(0.30, 0.25, 0.35),
        sun_height=0.04, backlight=0.6, glow=0.9, cloud_cover=0.4,
        cloud_lit=(1.0, 0.62, 0.45), cloud_shade=(0.38, 0.25, 0.40), haze=0.65,
        exposure=0.95, saturation=1.15,
    ),
    "dusk": Setting(
        "dusk", zenith=(0.04, 0.06, 0.18), mid=(0.16, 0.16, 0.36), horizon=(0.42, 0.32, 0.50),
        sun=(0.8, 0.45, 0.45), sun_strength=0.12, ambient=(0.30, 0.30, 0.46),
        sun_height=-0.08, backlight=0.7, glow=0.35, cloud_cover=0.25,
        cloud_lit=(0.45, 0.32, 0.45), cloud_shade=(0.10, 0.10, 0.20), haze=0.6,
        exposure=1.1, saturation=0.95,
    ),
    "overcast": Setting(
        "overcast", zenith=(0.58, 0.60, 0.64), mid=(0.68, 0.70, 0.72), horizon=(0.78, 0.79, 0.80),
        sun=(0.95, 0.95, 0.95), sun_strength=0.15, ambient=(0.66, 0.68, 0.72),
        sun_height=0.8, backlight=0.0, glow=0.0, cloud_cover=0.95,
        cloud_lit=(0.82, 0.83, 0.85), cloud_shade=(0.62, 0.64, 0.67), haze=0.7,
        exposure=0.95, saturation=0.75, cloud_kind="smooth", cloud_scale=0.35, cloud_relief=0.6,
    ),
    "snow": Setting(
        "snow", zenith=(0.45, 0.60, 0.82), mid=(0.66, 0.75, 0.88), horizon=(0.86, 0.89, 0.93),
        sun=(1.0, 0.97, 0.93), sun_strength=0.75, ambient=(0.60, 0.66, 0.78),
        sun_height=0.6, backlight=0.25, glow=0.15, cloud_cover=0.4,
        cloud_lit=(0.97, 0.97, 1.0), cloud_shade=(0.70, 0.74, 0.82), haze=0.6,
        exposure=0.95, saturation=0.9, snow=True,
    ),
}


def _jitter(c: Colour, rng: np.random.Generator, amount: float) -> Colour:
    v = np.clip(np.asarray(c) * (1.0 + rng.uniform(-amount, amount, 3)), 0.0, 1.0)
    return (float(v[0]), float(v[1]), float(v[2]))


def get_setting(name: str, rng: np.random.Generator | None = None) -> Setting:
    """The named setting, slightly randomised when ``rng`` is given."""
    if name not in _BASE:
        raise ValueError(f"unknown setting {name!r}; expected one of {SETTINGS}")
    s = _BASE[name]
    if rng is None:
        return s
    return replace(
        s,
        zenith=_jitter(s.zenith, rng, 0.08),
        mid=_jitter(s.mid, rng, 0.06),
        horizon=_jitter(s.horizon, rng, 0.05),
        sun_height=s.sun_height * float(rng.uniform(0.7, 1.3)),
        cloud_cover=float(np.clip(s.cloud_cover + rng.uniform(-0.25, 0.2), 0.0, 1.0)),
        haze=s.haze * float(rng.uniform(0.8, 1.2)),
    )
