"""The app's model: the label map, its undo history, the style and the canvas settings (no Qt).

Views never write the label map: they call the editing methods here, which record exactly one undo
step per stroke and tell listeners which box changed.
"""
from __future__ import annotations

import hashlib
import io
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from spade.label_convert import counterpart
from spade.labels import LabelSet, ade20k

from .painting import Region
from .undo import LabelEdit, UndoStack

Box = tuple[int, int, int, int]  # y0, y1, x0, x1
STYLE_IMAGE_MAX_SIDE = 512


@dataclass(frozen=True)
class StyleSource:
    """Where a style comes from: a seed of the prior, or a photo (its pixels, shrunk; kept in the document as a
    PNG, which is made only when the document is saved: encoding it would delay a dropped photo's first frame)."""

    kind: str = "seed"  # seed | image
    seed: int = 0
    pixels: np.ndarray | None = field(default=None, repr=False, compare=False)  # (h, w, 3) uint8, read-only
    name: str = ""
    digest: str = field(default="", repr=False)  # of the pixels: what two photo styles compare by

    def __post_init__(self) -> None:
        if self.pixels is not None and not self.digest:
            h, w, _ = self.pixels.shape
            digest = hashlib.sha1(f"{h}x{w}:".encode() + self.pixels.tobytes()).hexdigest()[:16]
            object.__setattr__(self, "digest", digest)

    @property
    def key(self) -> str:
        """Identifies the style independently of the model (used to cache and store latents)."""
        if self.kind == "image" and self.pixels is not None:
            return "image:" + self.digest
        return f"seed:{self.seed}"

    @property
    def label(self) -> str:
        return self.name or (f"seed {self.seed}" if self.kind == "seed" else "photo")

    def image(self) -> Image.Image | None:
        return Image.fromarray(self.pixels.copy()) if self.pixels is not None else None

    @cached_property
    def image_png(self) -> bytes | None:
        """The photo as PNG bytes (None for a seed), made once."""
        if self.pixels is None:
            return None
        buf = io.BytesIO()
        Image.fromarray(self.pixels).save(buf, format="PNG")
        return buf.getvalue()

    @classmethod
    def from_image(cls, image: Image.Image, name: str = "") -> "StyleSource":
        """A photo style; the photo is shrunk (the encoder sees 256 px at most)."""
        image = image.convert("RGB")
        image.thumbnail((STYLE_IMAGE_MAX_SIDE, STYLE_IMAGE_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0)
        pixels = np.array(image, dtype=np.uint8)
        pixels.setflags(write=False)
        return cls("image", 0, pixels, name)

    @classmethod
    def from_png(cls, png: bytes, name: str = "", seed: int = 0) -> "StyleSource":
        """A photo style from a document's PNG (which it keeps, so saving writes the same bytes); raises
        OSError or ValueError when the bytes are not a readable image."""
        with Image.open(io.BytesIO(png)) as img:
            pixels = np.array(img.convert("RGB"), dtype=np.uint8)
        pixels.setflags(write=False)
        source = cls("image", seed, pixels, name)
        source.__dict__["image_png"] = png
        return source


@dataclass(frozen=True)
class StyleSettings:
    """The style of the photo: `a`, or a blend of `a` and `b` by `t` (0 = a, 1 = b)."""

    a: StyleSource = StyleSource()
    b: StyleSource | None = None
    t: float = 0.0


@dataclass
class CanvasSettings:
    brush_size: int = 24
    overlay: bool = False
    overlay_opacity: float = 0.5


class Document:
    """A sketch being edited: label map + undo + style + settings, with change listeners."""

    def __init__(self, labels: np.ndarray, label_set: LabelSet | None = None):
        self.label_set = label_set or ade20k()
        self._labels = self.label_set.as_ids(labels).copy()
        self.undo_stack = UndoStack()
        self.style = StyleSettings()
        self.canvas = CanvasSettings()
        self.path: Path | None = None
        self.model_ref: str = ""
        self.latents: dict[str, np.ndarray] = {}
        self.revision = 0
        self._saved_state = 0
        self._other_dirty = False
        self._stroke_before: np.ndarray | None = None
        self._stroke_box: Box | None = None
        self._stroke_name = ""
        self.listeners: list[Callable[[Box | None], None]] = []
        self.style_listeners: list[Callable[[], None]] = []

    @classmethod
    def blank(cls, height: int, width: int, fill: int = 0, label_set: LabelSet | None = None) -> "Document":
        return cls(np.full((height, width), fill), label_set)

    @classmethod
    def starter(cls, height: int, width: int, label_set: LabelSet | None = None) -> "Document":
        """The sketch the app opens with: sky over a grassy field, so the first photo is already a landscape
        (in the set's own classes for sky and grass; unlabeled where it has none)."""
        ls = label_set or ade20k()
        labels = np.full((height, width), counterpart("sky", ls) or 0, dtype=ls.id_dtype)
        labels[int(height * 0.62):] = counterpart("grass", ls) or 0
        return cls(labels, ls)

    # -- reading -------------------------------------------------------------------------------------------
    @property
    def labels(self) -> np.ndarray:
        """The live label map; treat it as read-only (edit through the methods below)."""
        return self._labels

    @property
    def shape(self) -> tuple[int, int]:
        return self._labels.shape  # type: ignore[return-value]

    @property
    def dirty(self) -> bool:
        return self._other_dirty or self.undo_stack.state != self._saved_state

    @property
    def in_stroke(self) -> bool:
        return self._stroke_before is not None

    def mark_saved(self) -> None:
        self._saved_state = self.undo_stack.state
        self._other_dirty = False

    def mark_dirty(self) -> None:
        self._other_dirty = True

    # -- editing -------------------------------------------------------------------------------------------
    def begin_stroke(self, name: str = "stroke") -> None:
        """Start one undo step; everything painted until end_stroke() undoes at once."""
        if self._stroke_before is not None:
            self.end_stroke()
        self._stroke_before = self._labels.copy()
        self._stroke_box = None
        self._stroke_name = name

    @contextmanager
    def stroke(self, name: str = "stroke") -> Iterator["Document"]:
        """One undo step for everything painted inside the block; an exception throws the stroke away.

            with doc.stroke("fill"):
                doc.paint(region, class_id)
        """
        self.begin_stroke(name)
        try:
            yield self
        except BaseException:
            self.cancel_stroke()
            raise
        self.end_stroke()

    def paint(self, region: Region | None, value: int) -> None:
        """Write class `value` through a region's mask (inside a stroke; starts one if needed)."""
        if region is None:
            return
        if not 0 <= value <= self.label_set.max_id:
            raise ValueError(f"class id {value} outside the label set")
        if self._stroke_before is None:
            with self.stroke():
                self.paint(region, value)
            return
        view = self._labels[region.slices]
        view[region.mask] = value
        box = (region.y0, region.y1, region.x0, region.x1)
        b = self._stroke_box
        self._stroke_box = box if b is None else (min(b[0], box[0]), max(b[1], box[1]),
                                                  min(b[2], box[2]), max(b[3], box[3]))
        self._changed(box)

    def end_stroke(self) -> LabelEdit | None:
        """Close the current stroke and push its changed pixels as one undo step."""
        before, box = self._stroke_before, self._stroke_box
        self._stroke_before = self._stroke_box = None
        if before is None or box is None:
            return None
        y0, y1, x0, x1 = box
        sub = LabelEdit.between(before[y0:y1, x0:x1], self._labels[y0:y1, x0:x1], self._stroke_name)
        if sub is None:
            return None
        w = self._labels.shape[1]
        ys, xs = np.divmod(sub.indices, x1 - x0)
        edit = LabelEdit((ys + y0) * w + xs + x0, sub.old, sub.new, self._stroke_name)
        self.undo_stack.push(edit)
        return edit

    def cancel_stroke(self) -> None:
        """Throw away the stroke in progress (Escape while painting)."""
        if self._stroke_before is None:
            return
        box = self._stroke_box
        self._labels[...] = self._stroke_before
        self._stroke_before = self._stroke_box = None
        if box is not None:
            self._changed(box)

    def replace_labels(self, labels: np.ndarray, name: str = "replace") -> None:
        """Swap in a whole new label map of the same shape as one undo step (e.g. clear)."""
        labels = self.label_set.as_ids(labels)
        if labels.shape != self._labels.shape:
            raise ValueError("replace_labels keeps the canvas size")
        with self.stroke(name):
            self._labels[...] = labels
            self._stroke_box = (0, self.shape[0], 0, self.shape[1])
            self._changed(None)

    def convert(self, labels: np.ndarray, label_set: LabelSet, name: str = "convert") -> None:
        """Swap in the same sketch in another label set (the map of spade.label_convert) as one undo step:
        undoing it brings back the old map and its set."""
        labels = label_set.as_ids(labels)
        if labels.shape != self._labels.shape:
            raise ValueError("convert keeps the canvas size")
        if self._stroke_before is not None:
            self.end_stroke()
        before, after = self._labels.reshape(-1), labels.reshape(-1)
        indices = np.flatnonzero(before != after)
        edit = LabelEdit(indices, before[indices].copy(), after[indices].copy(), name,
                         label_sets=(self.label_set, label_set))
        self.undo_stack.push(edit)
        self._step(edit, forward=True)

    def undo(self) -> bool:
        edit = self.undo_stack.undo()
        if edit is None:
            return False
        self._step(edit, forward=False)
        return True

    def redo(self) -> bool:
        edit = self.undo_stack.redo()
        if edit is None:
            return False
        self._step(edit, forward=True)
        return True

    def _step(self, edit: LabelEdit, forward: bool) -> None:
        if edit.label_sets is not None:   # the map takes the set's dtype first: its ids may need more bits
            self.label_set = edit.label_sets[1 if forward else 0]
            self._labels = self._labels.astype(self.label_set.id_dtype, copy=False)
        edit.apply(self._labels) if forward else edit.revert(self._labels)
        self._changed(edit.bbox(self.shape[1]))

    def go_to(self, position: int) -> None:
        """Undo or redo until `position` steps of the history are applied (the history list's click)."""
        position = max(0, min(position, len(self.undo_stack.names)))
        while self.undo_stack.position > position and self.undo():
            pass
        while self.undo_stack.position < position and self.redo():
            pass

    # -- style -----------------------------------------------------------------------------------------------
    def set_style(self, style: StyleSettings) -> None:
        if style == self.style:
            return
        self.style = style
        self._other_dirty = True
        self.revision += 1
        for fn in list(self.style_listeners):
            fn()

    def set_style_source(self, source: StyleSource) -> None:
        """Use `source` as the main style (keeps a blend partner if there is one)."""
        self.set_style(replace(self.style, a=source))

    def _changed(self, box: Box | None) -> None:
        self.revision += 1
        for fn in list(self.listeners):
            fn(box)
