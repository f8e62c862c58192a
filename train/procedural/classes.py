"""ADE20K ids used by the procedural generator (see assets/ade20k_classes.csv)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

SKY = 3
TREE = 5
GRASS = 10
EARTH = 14
MOUNTAIN = 17
PLANT = 18
WATER = 22
SEA = 27
FIELD = 30
ROCK = 35
SAND = 47
PATH = 53
RIVER = 61
FLOWER = 67
HILL = 69
WATERFALL = 114
LAKE = 129

OUTDOOR_CLASSES: tuple[int, ...] = (
    SKY, TREE, GRASS, EARTH, MOUNTAIN, PLANT, WATER, SEA, FIELD,
    ROCK, SAND, PATH, RIVER, FLOWER, HILL, WATERFALL, LAKE,
)
WATER_CLASSES: tuple[int, ...] = (WATER, SEA, RIVER, LAKE)
# Horizontal surfaces: never mirrored in water (their reflection would not be visible).
GROUND_CLASSES: tuple[int, ...] = (GRASS, EARTH, FIELD, SAND, PATH, FLOWER)

CLASSES_CSV = Path(__file__).resolve().parents[2] / "assets" / "ade20k_classes.csv"


@lru_cache(maxsize=1)
def class_table() -> dict[int, tuple[str, tuple[int, int, int]]]:
    """id -> (name, ADE20K colour) from the copied class table."""
    table: dict[int, tuple[str, tuple[int, int, int]]] = {}
    with open(CLASSES_CSV, newline="") as fh:
        for row in csv.DictReader(fh):
            table[int(row["id"])] = (row["name"], (int(row["r"]), int(row["g"]), int(row["b"])))
    return table


def colorize(labels: np.ndarray) -> np.ndarray:
    """ADE20K palette rendering of a label map (for previews and debugging)."""
    lut = np.zeros((256, 3), np.uint8)
    for cid, (_, rgb) in class_table().items():
        lut[cid] = rgb
    return lut[labels]
