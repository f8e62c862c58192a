"""Converting a label map from one label set to another by class name.

A class goes to the class of the same name (or alias) in the other set; failing that, to the first class of
its row in SAME_IDEA that the other set has (COCO-Stuff's "sky-other" and ADE20K's "sky" are the same idea).
The table covers the landscape classes, which is what people paint; anything else without a namesake
becomes unlabeled and is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .labels import LabelSet

# Each row: a class name, then the names that stand for it in other sets, best first.
SAME_IDEA: tuple[tuple[str, ...], ...] = (
    ("sky", "sky-other"),
    ("sky-other", "sky"),
    ("clouds", "sky", "sky-other"),
    ("fog", "sky", "sky-other"),
    ("tree", "vegetation"),
    ("palm", "tree", "vegetation"),
    ("leaves", "tree", "vegetation"),
    ("branch", "tree", "vegetation"),
    ("bush", "plant", "vegetation"),
    ("plant", "plant-other", "vegetation"),
    ("plant-other", "plant", "vegetation"),
    ("moss", "grass", "plant", "vegetation"),
    ("vegetation", "tree"),
    ("grass", "terrain"),
    ("field", "grass", "terrain"),
    ("playingfield", "field", "grass", "terrain"),
    ("terrain", "grass"),
    ("mountain", "hill", "terrain"),
    ("hill", "mountain", "terrain"),
    ("water", "water-other"),
    ("water-other", "water"),
    ("lake", "water-other", "water"),
    ("waterfall", "water-other", "water"),
    ("waterdrops", "water-other", "water"),
    ("sea", "water-other", "water"),
    ("river", "water-other", "water"),
    ("rock", "stone", "terrain"),
    ("stone", "rock", "terrain"),
    ("sand", "terrain"),
    ("earth", "ground-other", "ground", "terrain"),
    ("ground-other", "earth", "ground", "terrain"),
    ("land", "ground-other", "earth", "ground", "terrain"),
    ("dirt", "earth", "ground", "terrain"),
    ("mud", "dirt", "earth", "terrain"),
    ("gravel", "dirt", "earth", "terrain"),
    ("snow", "ground-other", "terrain"),
    ("flower", "plant", "vegetation"),
    ("path", "pavement", "sidewalk", "road"),
    ("sidewalk", "pavement"),
    ("building", "building-other"),
    ("building-other", "building"),
    ("house", "building"),
    ("skyscraper", "building"),
    ("wall", "wall-other"),
    ("wall-other", "wall"),
)


@dataclass
class Conversion:
    """A converted label map, what went where, and what could not be converted (pixels per class name)."""

    labels: np.ndarray
    mapped: dict[str, str] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One or two sentences for people: which classes changed name, which became unlabeled."""
        renamed = [f"{a} -> {b}" for a, b in self.mapped.items() if a != b]
        parts = []
        if renamed:
            parts.append("converted by meaning: " + ", ".join(renamed))
        if self.lost:
            parts.append("no counterpart, now unlabeled: "
                         + ", ".join(f"{name} ({n} px)" for name, n in sorted(self.lost.items(), key=lambda x: -x[1])))
        return "; ".join(parts) if parts else "every class has a namesake"


def _find(name: str, target: LabelSet) -> int | None:
    try:
        return target.id_of(name)
    except KeyError:
        return None


def counterpart(name: str, target: LabelSet) -> int | None:
    """The id in `target` standing for the class called `name` (same name or alias, else SAME_IDEA), or None."""
    found = _find(name, target)
    if found is not None:
        return found
    row = next((r for r in SAME_IDEA if r[0] == name.strip().lower()), None)
    for other in row[1:] if row else ():
        found = _find(other, target)
        if found is not None:
            return found
    return None


def convert_labels(labels: np.ndarray, source: LabelSet, target: LabelSet) -> Conversion:
    """`labels` (ids of `source`) as ids of `target`; unlabeled stays unlabeled (id 0)."""
    result = Conversion(np.zeros(labels.shape, dtype=target.id_dtype))
    ids, counts = np.unique(labels, return_counts=True)
    for i, n in zip(ids.tolist(), counts.tolist()):
        if i == 0:
            continue
        name = source.names[i]
        j = counterpart(name, target)
        if j is None or j == 0:
            result.lost[name] = n
            continue
        result.labels[labels == i] = j
        result.mapped[name] = target.names[j]
    return result
