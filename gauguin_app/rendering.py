"""The pure side of live rendering (no Qt): the coalescing queue, render jobs and style resolution."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from spade import SpadeRenderer, Style, resize_labels
from spade.tone import TONE

from .document import Document, StyleSettings, StyleSource

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Coalescer(Generic[T]):
    """At most one item runs and at most one waits; a newer request replaces the waiting one.

    `request` returns the item to start now (when idle) or None (it waits); `done` marks the running
    item finished and returns the waiting one to start next, if any.
    """

    def __init__(self) -> None:
        self.running: T | None = None
        self.pending: T | None = None
        self.started = 0
        self.dropped = 0

    @property
    def busy(self) -> bool:
        return self.running is not None

    def request(self, item: T) -> T | None:
        if self.running is None:
            self.running = item
            self.started += 1
            return item
        if self.pending is not None:
            self.dropped += 1
        self.pending = item
        return None

    def done(self) -> T | None:
        self.running, self.pending = self.pending, None
        if self.running is not None:
            self.started += 1
        return self.running


@dataclass
class RenderJob:
    """A snapshot of what to render: the labels are a private copy, safe to use on another thread."""

    revision: int
    generation: int
    labels: np.ndarray
    style: StyleSettings
    renderer: SpadeRenderer
    latents: dict[str, np.ndarray] = field(default_factory=dict)
    submitted: float = field(default_factory=time.perf_counter)
    preview: bool = False  # a stroke preview (spade/fast/preview.py) is enough; else the exact frame
    stop: threading.Event = field(default_factory=threading.Event)  # set: give an exact frame up (a newer job waits)


@dataclass
class RenderResult:
    revision: int
    generation: int
    image: np.ndarray | None
    ms: float
    latents: dict[str, np.ndarray] = field(default_factory=dict)
    error: str | None = None
    labels_shape: tuple[int, int] = (0, 0)
    exact: bool = True  # False: a stroke preview, which the exact frame replaces
    cancelled: bool = False  # the job was given up (its `stop` was set): no image, nothing to show


class RenderSource:
    """What the render controller renders: the shown document with the loaded model (either may be missing)."""

    def __init__(self) -> None:
        self.document: Document | None = None
        self.renderer: SpadeRenderer | None = None

    def job(self, generation: int, preview: bool = False) -> RenderJob | None:
        """A snapshot of the document for the worker, or None when there is nothing to render; a preview
        only while a stroke is in progress."""
        doc, renderer = self.document, self.renderer
        if doc is None or renderer is None or not doc.label_set.same_classes(renderer.label_set):
            return None
        return RenderJob(doc.revision, generation, doc.labels.copy(), doc.style, renderer, dict(doc.latents),
                         preview=preview and doc.in_stroke)


def latent_key(renderer: SpadeRenderer, source: StyleSource) -> str:
    """Latents belong to one model's weights: keyed by its identity, never by its (shared) display name."""
    return f"{renderer.identity}|{source.key}"


def resolve_style(renderer: SpadeRenderer, style: StyleSettings,
                  known: dict[str, np.ndarray]) -> tuple[Style | None, dict[str, np.ndarray]]:
    """The Style to render with, using stored latents when there are any; also returns new latents.

    A stored latent is a style's `vector()` (the latent and the photo's tone); one of another shape (a
    document saved by an earlier Gauguin, before tones had their present numbers) or that is not a valid one
    (a damaged document) is computed again."""
    if not renderer.uses_style:
        return None, {}
    z_dim = renderer.bundle.generator_config.z_dim
    new: dict[str, np.ndarray] = {}

    def one(src: StyleSource) -> Style:
        key = latent_key(renderer, src)
        z = known.get(key)
        if z is not None and tuple(np.shape(z)) == (1, z_dim + len(TONE)) and np.isfinite(z).all():
            try:
                return Style.from_vector(z, src.key, src.seed)
            except ValueError:
                logger.warning("style %s: the stored latent is not valid; computing it again", src.key)
        if src.kind == "image" and renderer.has_encoder and src.pixels is not None:
            st = renderer.encode_style(src.image())
        else:
            st = renderer.random_style(src.seed)
        new[key] = st.vector()
        return st

    a = one(style.a)
    if style.b is None or style.t <= 0.0:
        return a, new
    return SpadeRenderer.blend(a, one(style.b), style.t), new


def letterbox(labels: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Fit `labels` into `size` keeping its aspect, padded by repeating its border classes; returns the padded
    map and the slices of the picture inside it (a fixed-size model renders it without stretching)."""
    h, w = labels.shape
    rh, rw = size
    s = min(rh / h, rw / w)
    fh, fw = max(1, min(rh, round(h * s))), max(1, min(rw, round(w * s)))
    top, left = (rh - fh) // 2, (rw - fw) // 2
    padded = np.pad(resize_labels(labels, fh, fw), ((top, rh - fh - top), (left, rw - fw - left)), mode="edge")
    return padded, (slice(top, top + fh), slice(left, left + fw))


def render_job(job: RenderJob) -> RenderResult:
    """Run one job (on the worker thread). Model errors propagate to the caller.

    A map the model cannot render at its own size is resized to one it can; when that would change the aspect
    (a fixed-size model and a wide canvas), it is letterboxed instead and the photo cropped back to the picture.
    """
    t0 = time.perf_counter()
    h, w = job.labels.shape
    size = job.renderer.renderable_size(h, w)
    inside: tuple[slice, slice] = (slice(None), slice(None))
    if abs(size[0] / size[1] - h / w) > 0.02 * h / w:
        labels, inside = letterbox(job.labels, size)
    else:
        labels = resize_labels(job.labels, *size)
    style, new = resolve_style(job.renderer, job.style, job.latents)
    if job.preview:
        image, exact = job.renderer.render_preview(labels, style)
    else:
        image, exact = job.renderer.render(labels, style, stop=job.stop), True
    return RenderResult(job.revision, job.generation, np.ascontiguousarray(image[inside]),
                        (time.perf_counter() - t0) * 1000.0, new, labels_shape=(h, w), exact=exact)
