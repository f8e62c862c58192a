"""The style atlas: a style latent read from how a photograph looks, among latents whose renders are known.

The paper's style encoder (ConvEncoder) learns to guess a latent from the images it was trained on; the bundled
model's saw procedural renders only, and a real photograph lands outside what it knows (docs/training.md). The
atlas answers from what the generator renders instead: it is a table of latents, each with the *looks* of its
renders (the model's own generator on a few fixed layouts: a lake, a forest, fields...), and a photo's style is
the latent with a render that looks most like the photo. A look is eleven numbers in CIELAB: the median colour
of the top fifth of the picture (where the sky is), the median of its lower half (the ground), the spread of
each channel over the whole picture, and the lightness of the ground's shadows and highlights (a median alone
misses snow between dark trees). Each layout's look is kept apart, not averaged, because a look depends on what
the picture shows as well as on its light: only a render of a forest looks like a photo of a snowy forest.
Latents are built by `python -m train.style_atlas`; a model folder holds its atlas in
`style_atlas.safetensors` beside `model.safetensors`, and a model without one uses its encoder.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .atomic import atomic_write
from .colour import srgb_to_lab
from .errors import CheckpointError

ATLAS_NAME = "style_atlas.safetensors"
LOOK = ("sky L", "sky a", "sky b", "ground L", "ground a", "ground b", "spread L", "spread a", "spread b",
        "ground shadow L", "ground highlight L")
TOP_BAND = 0.2      # the sky: the top fifth of a picture
LOW_BAND = 0.5      # the ground: its lower half
LOOK_SIDE = 256     # pictures are read at this size (a look is a few medians; more pixels add nothing)
GROUND_QUANTILES = (10, 90)   # percentiles of the ground's lightness: its shadows and highlights (snow, sand)
# How much each number of a look counts when two looks are compared: the spread and the ground's shadows and
# highlights say less about a setting than the colours do.
LOOK_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5)


def _top_rows(height: int) -> int:
    return max(1, round(height * TOP_BAND))


def top_band_lab(rgb: np.ndarray) -> np.ndarray:
    """Median CIELAB of the top fifth of an (H, W, 3) sRGB picture: its sky, robust to a tree poking in."""
    band = np.asarray(rgb)[: _top_rows(rgb.shape[0])]
    return np.median(srgb_to_lab(band).reshape(-1, 3), axis=0)


def picture_look(rgb: np.ndarray) -> np.ndarray:
    """(11,) the look (LOOK) of an (H, W, 3) sRGB picture, uint8 or floats in 0..255."""
    rgb = np.asarray(rgb)
    lab = srgb_to_lab(rgb)
    top = np.median(lab[: _top_rows(rgb.shape[0])].reshape(-1, 3), axis=0)
    low = lab[int(rgb.shape[0] * (1 - LOW_BAND)):].reshape(-1, 3)
    flat = lab.reshape(-1, 3)
    mean = flat.mean(0)
    spread = np.sqrt(np.maximum(np.einsum("ij,ij->j", flat, flat) / len(flat) - mean * mean, 0.0))  # std, one pass
    return np.concatenate([top, np.median(low, axis=0), spread, np.percentile(low[:, 0], GROUND_QUANTILES)])


def image_look(image: Image.Image) -> np.ndarray:
    """The look of a PIL image of any size (read at LOOK_SIDE x LOOK_SIDE)."""
    small = image.convert("RGB").resize((LOOK_SIDE, LOOK_SIDE), Image.Resampling.BICUBIC)
    return picture_look(np.asarray(small))


@dataclass(frozen=True)
class StyleAtlas:
    """Latents (N, z_dim) and the looks of their renders on K layouts (N, K, len(LOOK))."""

    z: np.ndarray
    looks: np.ndarray
    weights: tuple[float, ...] = LOOK_WEIGHTS

    def __post_init__(self):
        if (self.z.ndim != 2 or len(self.z) == 0 or self.looks.ndim != 3
                or self.looks.shape[::2] != (len(self.z), len(LOOK)) or self.looks.shape[1] == 0):
            raise ValueError(f"an atlas needs (N, z_dim) latents and (N, K, {len(LOOK)}) looks, N and K > 0")

    def __len__(self) -> int:
        return len(self.z)

    @property
    def z_dim(self) -> int:
        return int(self.z.shape[1])

    def render_distances(self, look: np.ndarray) -> np.ndarray:
        """(N, K) the weighted Euclidean distance (in CIELAB units) of each render's look from `look`."""
        return np.sqrt((((self.looks - look) * np.asarray(self.weights)) ** 2).sum(2))

    def distances(self, look: np.ndarray) -> np.ndarray:
        """(N,) how far each entry is from `look`: the distance of its nearest-looking render."""
        return self.render_distances(look).min(1)

    def match(self, look: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The latent (z_dim,) float32 whose renders look most like `look`, and the look of that nearest render
        (what the photo's tone is measured against, spade/tone.py)."""
        d = self.render_distances(look)
        entry = int(np.argmin(d.min(1)))
        return self.z[entry].astype(np.float32), self.looks[entry, int(np.argmin(d[entry]))]

    def save(self, folder: str | Path) -> Path:
        """Write the atlas into a model folder (atomically); returns the file."""
        path = Path(folder) / ATLAS_NAME
        tensors = {"z": torch.from_numpy(np.ascontiguousarray(self.z, np.float16)),
                   "looks": torch.from_numpy(np.ascontiguousarray(self.looks, np.float32))}
        meta = {"look": json.dumps(LOOK), "weights": json.dumps(list(self.weights))}
        atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))
        return path

    @classmethod
    def load(cls, folder: str | Path) -> StyleAtlas | None:
        """The atlas of a model folder, or None when it has none."""
        path = Path(folder) / ATLAS_NAME
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), "pt") as f:
                meta = f.metadata() or {}
                tensors = {k: f.get_tensor(k) for k in ("z", "looks")}
            if json.loads(meta.get("look", "null")) != list(LOOK):
                raise CheckpointError(f"{path}: an atlas of other looks than this Gauguin reads")
            weights = tuple(float(w) for w in json.loads(meta["weights"]))
            return cls(tensors["z"].float().numpy(), tensors["looks"].float().numpy(), weights)
        except (OSError, SafetensorError, KeyError, ValueError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: unreadable style atlas ({e})") from None
