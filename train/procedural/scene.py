"""Whole procedural scenes: a random layout rendered under a random setting."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layout import generate_layout
from .render import render_image
from .settings import SETTINGS

# Sampling weights of settings when none is requested (clear days are most common).
_SETTING_WEIGHTS = {"day": 0.36, "golden_hour": 0.16, "sunset": 0.14, "dusk": 0.08,
                    "overcast": 0.14, "snow": 0.12}


@dataclass
class Scene:
    image: np.ndarray  # (H, W, 3) uint8
    labels: np.ndarray  # (H, W) uint8 ADE20K ids
    setting: str
    seed: int


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def setting_weights(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The default sampling weights of the settings, with ``overrides`` (e.g. ``{"snow": 0.3}``) applied."""
    weights = dict(_SETTING_WEIGHTS)
    for name, weight in (overrides or {}).items():
        if name not in weights:
            raise ValueError(f"unknown setting {name!r}; expected one of {SETTINGS}")
        if not weight >= 0:
            raise ValueError(f"the weight of setting {name!r} must be non-negative; got {weight}")
        weights[name] = float(weight)
    if sum(weights.values()) <= 0:
        raise ValueError("at least one setting needs a positive weight")
    return weights


def generate_scene(seed: int, size: int | tuple[int, int] = 256, setting: str | None = None,
                   weights: dict[str, float] | None = None) -> Scene:
    """A deterministic scene for ``seed``; ``size`` is an int or (height, width).

    The layout depends only on the seed and size, so the same seed rendered
    under different settings shows the same landscape. Without ``setting``, one
    is drawn with the default weights, or with ``weights`` overriding some of them.
    """
    h, w = _size(size)
    if setting is None:
        table = setting_weights(weights)
        names = list(table)
        p = np.asarray([table[n] for n in names])
        setting = names[int(np.random.default_rng([seed, 1]).choice(len(names), p=p / p.sum()))]
    elif setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; expected one of {SETTINGS}")
    labels = generate_layout(np.random.default_rng([seed, 0]), h, w)
    return Scene(image=render_image(labels, setting, seed), labels=labels, setting=setting, seed=seed)
