"""Images to export: the photo at the canvas size, the sketch in palette colours, or both side by side (no Qt)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from spade.labels import LabelSet, save_image

EXPORT_KINDS = ("photo", "sketch", "side_by_side")


def photo_at(photo: np.ndarray, size: tuple[int, int]) -> Image.Image:
    """The photo scaled to (height, width) when the model rendered at another size."""
    img = Image.fromarray(photo)
    h, w = size
    if img.size != (w, h):
        img = img.resize((w, h), Image.Resampling.BICUBIC)
    return img


def export_image(kind: str, labels: np.ndarray, label_set: LabelSet, photo: np.ndarray | None) -> Image.Image:
    sketch = Image.fromarray(label_set.colorize(labels))
    if kind == "sketch":
        return sketch
    if photo is None:
        raise ValueError("there is no photo yet")
    picture = photo_at(photo, labels.shape)
    if kind == "photo":
        return picture
    if kind != "side_by_side":
        raise ValueError(f"unknown export kind {kind!r}")
    gap = max(4, labels.shape[1] // 64)
    both = Image.new("RGB", (sketch.width * 2 + gap, sketch.height), (255, 255, 255))
    both.paste(sketch, (0, 0))
    both.paste(picture, (sketch.width + gap, 0))
    return both


def write_export(path: str | Path, kind: str, labels: np.ndarray, label_set: LabelSet,
                 photo: np.ndarray | None) -> None:
    """Compose and write atomically; the format follows the extension (.png, .jpg)."""
    save_image(path, export_image(kind, labels, label_set, photo))
