"""The colours the app draws classes in (no Qt): the label set's own colours where people can tell them apart,
moved where they cannot.

Label sets were coloured for machines: ADE20K draws sky, water, river, lake and waterfall in near-identical
cyans and rock, flower and path in near-identical reds. The display palette keeps each class's official colour
unless it lies within a threshold (CIELAB distance) of a colour already given out; then it takes the nearest
colour that is far enough from all of them, preferring a change of lightness and chroma to a change of hue, so a
moved river is still a blue-green. Classes are served in the palette's order (the landscape classes first), so
the common ones keep their official colours. Files (masks, exported sketches) always use the official colours.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from spade.colour import srgb_to_lab
from spade.labels import BUILTIN_LABEL_SETS, LabelSet, builtin_label_set

# Landscape classes first, in this order, by the names the label sets use (ADE20K, COCO-Stuff, Cityscapes);
# names a set lacks are skipped.
COMMON_OUTDOOR = ("sky", "sky-other", "clouds", "fog", "tree", "vegetation", "bush", "grass", "terrain", "mountain",
                  "hill", "water", "water-other", "sea", "river", "lake", "waterfall", "rock", "stone", "sand", "snow",
                  "earth", "ground-other", "field", "dirt", "gravel", "mud", "flower", "plant", "plant-other",
                  "leaves", "moss", "palm", "path", "road", "pavement", "sidewalk", "building", "building-other",
                  "house", "bridge", "fence", "boat")
LANDSCAPE_DISTANCE = 22.0   # the least CIELAB distance between two landscape classes
OTHER_DISTANCE = 10.0       # between any other class and every class before it
SMALL_SET = 40
_WEIGHTS = (0.7, 1.0, 2.0)  # lightness, chroma, hue: how much moving a colour along each costs


def is_bundled(label_set: LabelSet) -> bool:
    """A bundled set (ADE20K, COCO-Stuff, Cityscapes): the sets COMMON_OUTDOOR was written for."""
    builtin = builtin_label_set(label_set.name) if label_set.name in BUILTIN_LABEL_SETS else None
    return builtin is not None and builtin.same_classes(label_set)


def landscape_ids(label_set: LabelSet) -> list[int]:
    """A bundled set's landscape classes in COMMON_OUTDOOR order (a class named twice, by alias, once); none for
    a set of one's own, whose table's order is its author's."""
    if not is_bundled(label_set):
        return []
    common: list[int] = []
    for name in COMMON_OUTDOOR:
        try:
            i = label_set.id_of(name)
        except KeyError:
            continue
        if i and i not in common:
            common.append(i)
    return common


def _lch(lab: np.ndarray) -> np.ndarray:
    return np.stack([lab[..., 0], np.hypot(lab[..., 1], lab[..., 2]), np.arctan2(lab[..., 2], lab[..., 1])], -1)


def _move_cost(target: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """How far each candidate (LCh) is from `target` (LCh), a hue change weighing most."""
    dl = candidates[:, 0] - target[0]
    dc = candidates[:, 1] - target[1]
    dh = 2 * np.sqrt(candidates[:, 1] * target[1]) * np.sin((candidates[:, 2] - target[2]) / 2)
    wl, wc, wh = _WEIGHTS
    return (wl * dl) ** 2 + (wc * dc) ** 2 + (wh * dh) ** 2


@lru_cache(maxsize=1)
def _candidates() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sRGB colour on a grid of 18 levels a channel, with its CIELAB and LCh."""
    levels = np.linspace(0, 255, 18).round().astype(np.uint8)
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)
    lab = srgb_to_lab(rgb)
    return rgb, lab, _lch(lab)


@lru_cache(maxsize=8)
def _distinct(names: tuple[str, ...], colors: bytes, landscape: tuple[int, ...]) -> np.ndarray:
    official = np.frombuffer(colors, np.uint8).reshape(-1, 3)
    out = official.copy()
    lab = srgb_to_lab(official)
    rgb_c, lab_c, lch_c = _candidates()
    placed: list[np.ndarray] = []
    nearest = np.full(len(lab_c), np.inf)  # each candidate's squared distance to the nearest colour given out
    order = [0] + list(landscape) + [i for i in range(1, len(names)) if i not in landscape]
    for i in order:
        need = LANDSCAPE_DISTANCE if i in landscape else OTHER_DISTANCE
        if placed and ((np.asarray(placed) - lab[i]) ** 2).sum(1).min() < need ** 2:
            cost = _move_cost(_lch(lab[i]), lch_c)
            while not (nearest >= need ** 2).any():
                need *= 0.8
            ok = np.flatnonzero(nearest >= need ** 2)
            out[i] = rgb_c[ok[np.argmin(cost[ok])]]
        placed.append(srgb_to_lab(out[i]))
        diff = lab_c - placed[-1]
        np.minimum(nearest, np.einsum("ij,ij->i", diff, diff), out=nearest)
    out.setflags(write=False)
    return out


def distinct_colours(label_set: LabelSet) -> np.ndarray:
    """(N, 3) uint8 display colours of a label set (see the module's docstring); computed once per set. A small
    set of one's own (up to SMALL_SET classes) has room for every class to be as distinct as landscape ones."""
    first = landscape_ids(label_set) or (list(range(1, len(label_set))) if label_set.class_count <= SMALL_SET
                                         else [])
    return _distinct(label_set.names, np.ascontiguousarray(label_set.colors, np.uint8).tobytes(), tuple(first))


def display_colours(label_set: LabelSet, official: bool = False) -> np.ndarray:
    """The colours to draw `label_set` in: its own (`official`), else the distinct display palette."""
    return label_set.colors if official else distinct_colours(label_set)
