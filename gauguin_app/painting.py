"""Pure numpy painting operations on integer label maps (no Qt, no antialiasing).

Every operation returns a `Region`: a bounding box plus a boolean mask inside it. The document writes
one class id through the mask, so a stroke can never produce a value that is not a class id.
Coordinates are pixel indices: x is the column, y the row; a pixel's centre is its integer index.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]  # (x, y)


@dataclass(frozen=True)
class Region:
    """A boolean mask over the box rows y0:y1, columns x0:x1 of a label map."""

    y0: int
    y1: int
    x0: int
    x1: int
    mask: np.ndarray

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def is_empty(self) -> bool:
        return not self.mask.any()


def line_points(p0: Point, p1: Point) -> tuple[np.ndarray, np.ndarray]:
    """Bresenham's line between two pixels, both ends included: (ys, xs) int arrays."""
    x0, y0 = int(round(p0[0])), int(round(p0[1]))
    x1, y1 = int(round(p1[0])), int(round(p1[1]))
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    xs, ys = [], []
    while True:
        xs.append(x0)
        ys.append(y0)
        if x0 == x1 and y0 == y1:
            break
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy
    return np.array(ys, dtype=np.int64), np.array(xs, dtype=np.int64)


def _clip_box(shape: tuple[int, int], y0: int, y1: int, x0: int, x1: int) -> tuple[int, int, int, int] | None:
    h, w = shape
    y0, y1, x0, x1 = max(y0, 0), min(y1, h), max(x0, 0), min(x1, w)
    if y0 >= y1 or x0 >= x1:
        return None
    return y0, y1, x0, x1


def stroke_segment(shape: tuple[int, int], p0: Point, p1: Point, size: int) -> Region | None:
    """A round brush of diameter `size` dragged from p0 to p1 (a capsule), clipped to the map.

    The capsule test runs on the segment's bounding box only, so long strokes with big brushes stay cheap;
    the Bresenham line is added so a 1-pixel brush never leaves gaps.
    """
    r = max(float(size), 1.0) / 2.0
    ax, ay = float(round(p0[0])), float(round(p0[1]))
    bx, by = float(round(p1[0])), float(round(p1[1]))
    pad = int(np.ceil(r)) + 1
    box = _clip_box(shape, int(min(ay, by)) - pad, int(max(ay, by)) + pad + 1,
                    int(min(ax, bx)) - pad, int(max(ax, bx)) + pad + 1)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    yy = np.arange(y0, y1, dtype=np.float64)[:, None]
    xx = np.arange(x0, x1, dtype=np.float64)[None, :]
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 == 0:
        t = 0.0
    else:
        t = np.clip(((xx - ax) * dx + (yy - ay) * dy) / length2, 0.0, 1.0)
    mask = (xx - (ax + t * dx)) ** 2 + (yy - (ay + t * dy)) ** 2 <= r * r
    ys, xs = line_points((ax, ay), (bx, by))
    keep = (ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1)
    mask[ys[keep] - y0, xs[keep] - x0] = True
    return Region(y0, y1, x0, x1, mask)


def flood_fill(labels: np.ndarray, seed: tuple[int, int]) -> Region | None:
    """The 4-connected region of pixels sharing the seed's class, by a span (scanline) fill.

    Each popped seed grows to a full horizontal run with numpy, then one seed is pushed per run of
    matching pixels in the rows above and below, so the Python loop runs once per span, not per pixel.
    """
    h, w = labels.shape
    x, y = int(seed[0]), int(seed[1])
    if not (0 <= x < w and 0 <= y < h):
        return None
    same = labels == labels[y, x]
    filled = np.zeros((h, w), dtype=bool)
    stack = [(y, x)]
    while stack:
        y, x = stack.pop()
        if filled[y, x]:
            continue
        row = same[y]
        left_breaks = np.flatnonzero(~row[:x])
        right_breaks = np.flatnonzero(~row[x:])
        a = left_breaks[-1] + 1 if left_breaks.size else 0
        b = x + right_breaks[0] if right_breaks.size else w
        filled[y, a:b] = True
        for ny in (y - 1, y + 1):
            if 0 <= ny < h:
                open_ = same[ny, a:b] & ~filled[ny, a:b]
                if open_.any():
                    starts = np.flatnonzero(open_ & ~np.concatenate(([False], open_[:-1])))
                    stack.extend((ny, a + int(s)) for s in starts)
    rows = np.flatnonzero(filled.any(axis=1))
    cols = np.flatnonzero(filled.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Region(y0, y1, x0, x1, filled[y0:y1, x0:x1])


def polygon_fill(shape: tuple[int, int], points: Sequence[Point]) -> Region | None:
    """A filled polygon with its outline, clipped to the map (Pillow's scanline polygon, drawn in the box)."""
    if len(points) == 0:
        return None
    pts = [(int(round(px)), int(round(py))) for px, py in points]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    box = _clip_box(shape, min(ys), max(ys) + 1, min(xs), max(xs) + 1)
    if box is None:
        return None
    y0, y1, x0, x1 = box
    canvas = Image.new("1", (x1 - x0, y1 - y0), 0)
    local = [(x - x0, y - y0) for x, y in pts]
    draw = ImageDraw.Draw(canvas)
    if len(local) >= 3:
        draw.polygon(local, fill=1, outline=1)
    elif len(local) == 2:
        draw.line(local, fill=1)
    else:
        draw.point(local, fill=1)
    return Region(y0, y1, x0, x1, np.array(canvas, dtype=bool))


def shape_fill(shape: tuple[int, int], p0: Point, p1: Point, kind: str) -> Region | None:
    """A filled axis-aligned rectangle or ellipse with corners p0 and p1 (both included), clipped to the map."""
    (ax, ay), (bx, by) = ((int(round(x)), int(round(y))) for x, y in (p0, p1))
    x0, x1, y0, y1 = min(ax, bx), max(ax, bx), min(ay, by), max(ay, by)
    box = _clip_box(shape, y0, y1 + 1, x0, x1 + 1)
    if box is None:
        return None
    cy0, cy1, cx0, cx1 = box
    if kind == "rectangle":
        return Region(cy0, cy1, cx0, cx1, np.ones((cy1 - cy0, cx1 - cx0), dtype=bool))
    if kind != "ellipse":
        raise ValueError(f"unknown shape {kind!r}")
    canvas = Image.new("1", (cx1 - cx0, cy1 - cy0), 0)
    ImageDraw.Draw(canvas).ellipse((x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0), fill=1, outline=1)
    return Region(cy0, cy1, cx0, cx1, np.array(canvas, dtype=bool))


def constrain_square(p0: Point, p1: Point) -> Point:
    """The corner that makes p0-p1 a square (Shift while dragging a shape): the longer side wins."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    side = max(abs(dx), abs(dy))
    return p0[0] + (side if dx >= 0 else -side), p0[1] + (side if dy >= 0 else -side)
