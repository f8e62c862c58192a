"""Scene geometry inferred from a label map alone.

The renderer only sees labels (so it also works for hand-painted sketches):
the horizon is estimated from where flat ground and water begin, and each
pixel's vertical "run" of its own class gives the top edge (ridge line,
shore) and bottom edge (where the object stands on the ground) that drive
shading, reflections and atmospheric depth.
"""

from __future__ import annotations

import numpy as np

from .classes import GROUND_CLASSES, HILL, MOUNTAIN, SKY, WATER_CLASSES


class Geometry:
    def __init__(self, labels: np.ndarray) -> None:
        h, w = labels.shape
        self.labels = labels
        self.h, self.w = h, w
        rows = np.arange(h, dtype=np.int32)[:, None]
        change = labels[1:] != labels[:-1]
        starts = np.ones((h, w), bool)
        starts[1:] = change
        ends = np.ones((h, w), bool)
        ends[:-1] = change
        self.run_top = np.maximum.accumulate(np.where(starts, rows, 0), axis=0)
        self.run_bottom = np.minimum.accumulate(np.where(ends, rows, h - 1)[::-1], axis=0)[::-1]
        self.horizon = self._horizon(labels)
        self._base: np.ndarray | None = None
        hz = self.horizon
        ys = np.arange(h, dtype=np.float32)
        # Ground-plane parameter per row: 0 at the horizon, 1 at the image bottom.
        self.z_row = np.clip((ys - hz) / max(h - hz, 1.0), 0.0, 1.0)
        self.cx = w / 2.0

    @staticmethod
    def _horizon(labels: np.ndarray) -> float:
        h = labels.shape[0]
        flat = np.isin(labels, GROUND_CLASSES + WATER_CLASSES)
        has = flat.any(axis=0)
        if has.any():
            first = np.argmax(flat, axis=0)[has]
            return float(np.clip(np.percentile(first, 5), 1, h - 2))
        sky = labels == SKY
        if sky.any():
            low = h - 1 - np.argmax(sky[::-1], axis=0)
            return float(np.clip(np.max(low[sky.any(axis=0)]) + 1, 1, h - 2))
        return h * 0.5

    def ground_coords(self, r0: int, r1: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """Perspective ground-plane texture coordinates (gy, gx) for rows r0:r1.

        Textures sampled at these coordinates shrink toward the horizon.
        """
        hz, h = self.horizon, self.h
        yd = np.arange(r0, r1, dtype=np.float32)[:, None] - hz
        inv = 1.0 / (np.maximum(yd, 0.0) + 0.04 * (h - hz) + 1.0)
        k = scale * (1.04 * (h - hz) + 1.0)  # about one texel per pixel at the bottom
        gy = k * (h - hz) * inv * 0.5
        gx = (np.arange(self.w, dtype=np.float32)[None, :] - self.cx) * inv * k
        return gy, gx

    @staticmethod
    def _run_max(lab: np.ndarray, val: np.ndarray) -> np.ndarray:
        """Replace each value by the max over its horizontal run of equal labels."""
        flat_lab, flat_val = lab.ravel(), val.ravel()
        starts = np.ones(flat_lab.shape, bool)
        starts[1:] = flat_lab[1:] != flat_lab[:-1]
        starts[:: lab.shape[1]] = True
        idx = np.flatnonzero(starts)
        seg = np.maximum.reduceat(flat_val, idx)
        return np.repeat(seg, np.diff(np.append(idx, flat_val.size))).reshape(val.shape)

    def object_base(self) -> np.ndarray:
        """Approximate row where each pixel's object meets the ground: the lowest
        run bottom reachable through horizontal and vertical runs of its class."""
        if self._base is None:
            b = self._run_max(self.labels, self.run_bottom)
            b = self._run_max(self.labels.T, b.T).T
            self._base = self._run_max(self.labels, b)
        return self._base

    def runs_x(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray]:
        """Distance (px) of each pixel from the left and right end of its horizontal run."""
        lab = self.labels[r0:r1]
        cols = np.arange(self.w, dtype=np.int32)[None, :]
        change = lab[:, 1:] != lab[:, :-1]
        starts = np.ones(lab.shape, bool)
        starts[:, 1:] = change
        ends = np.ones(lab.shape, bool)
        ends[:, :-1] = change
        left = np.maximum.accumulate(np.where(starts, cols, 0), axis=1)
        right = np.minimum.accumulate(np.where(ends, cols, self.w - 1)[:, ::-1], axis=1)[:, ::-1]
        return (cols - left).astype(np.float32), (right - cols).astype(np.float32)

    def distance(self, r0: int, r1: int) -> np.ndarray:
        """Relative viewing distance for rows r0:r1: ~0 near the bottom, 1 at the horizon,
        more for mountains seen behind other ridges."""
        hz, h = self.horizon, self.h
        lab = self.labels[r0:r1]
        base = self.object_base()[r0:r1].astype(np.float32) + 1.0
        ys = np.arange(r0, r1, dtype=np.float32)[:, None]
        flat = np.isin(lab, GROUND_CLASSES + WATER_CLASSES)
        y_ref = np.where(flat, ys, np.maximum(base, hz))
        z = (y_ref - hz) / max(h - hz, 1.0)
        d = 0.035 / (np.maximum(z, 0.0) + 0.035)
        ranges = (lab == MOUNTAIN) | (lab == HILL)
        below = np.take_along_axis(self.labels, np.minimum(base.astype(np.int64), h - 1), axis=0)
        behind = (lab == MOUNTAIN) & ((below == HILL) | (below == MOUNTAIN))
        above = np.clip((hz - base) / h, 0.0, 1.0) * behind
        return np.where(ranges, d + 0.1 + 2.0 * above, d)
