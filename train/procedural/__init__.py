"""Procedural outdoor landscapes (label map + photo-like image) for training SPADE.

Pure numpy + pillow; ``ProceduralDataset`` imports torch lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .classes import OUTDOOR_CLASSES, colorize
from .render import render_image
from .scene import Scene, generate_scene
from .settings import SETTINGS

if TYPE_CHECKING:
    from .dataset import ProceduralDataset

__all__ = [
    "OUTDOOR_CLASSES", "SETTINGS", "Scene", "generate_scene", "render_image",
    "ProceduralDataset", "colorize",
]


def __getattr__(name: str):
    if name == "ProceduralDataset":
        from .dataset import ProceduralDataset

        return ProceduralDataset
    raise AttributeError(name)
