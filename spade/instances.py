"""Instance maps and the instance-edge channel of the COCO-Stuff and Cityscapes SPADE models.

Those models take one more input channel: 1.0 where a pixel's instance differs from its right or lower
neighbour, on both pixels of such a pair, else 0.0 (as the reference computes it). Without an
instance-id map, each connected region of one class counts as one instance; two 4-neighbours of one class
always lie in the same region, so the edges are then exactly the borders between classes, computed from the
label map itself.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .errors import MaskError
from .labels import open_image


def instance_edges(instances: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """(..., H, W) bool, numpy or torch as given: True on both pixels of every horizontal or vertical pair
    of different ids."""
    if isinstance(instances, torch.Tensor):
        t = instances
        edges = torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    else:
        t = np.asarray(instances)
        edges = np.zeros(t.shape, dtype=bool)
    across = t[..., 1:] != t[..., :-1]
    edges[..., 1:] |= across
    edges[..., :-1] |= across
    down = t[..., 1:, :] != t[..., :-1, :]
    edges[..., 1:, :] |= down
    edges[..., :-1, :] |= down
    return edges


def read_instance_map(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """An instance-id map (H, W) int64 from a PNG: grey or 16/32-bit ids (COCO-Stuff, Cityscapes
    *_instanceIds.png), or colours (each colour one instance). `shape` is the label map's (H, W)."""
    img = open_image(Path(path), "instance map", MaskError)
    if img.mode in ("RGB", "RGBA"):
        rgb = np.asarray(img.convert("RGB")).astype(np.int64)
        ids = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    else:
        ids = np.asarray(img if img.mode in ("L", "P", "I", "I;16") else img.convert("I")).astype(np.int64)
    if shape is not None and ids.shape != tuple(shape):
        raise MaskError(f"instance map {path} is {ids.shape[1]}x{ids.shape[0]} but the label map is "
                        f"{shape[1]}x{shape[0]}")
    return ids
