"""Real photographs paired with their coarse label maps, and their mix with procedural scenes.

`RealPairDataset` reads the photos of a folder written by `python -m train.real_photos fit DIR` and the label
maps of train/real_labels (or another folder) of the same names. Each sample is the pair rescaled so that its
short side is between the crop size and `max_scale` times it, then one random crop and flip shared by photo and
labels, all drawn from the sample's seed. The photo is also the style encoder's input for its pair, as for any
training pair, so a VAE model learns to encode real photographs.

Only photos of the fit set may be trained on: a photo that the folder's photos.json puts in another set is
refused, and so is a folder without that file.

`MixedDataset` holds a procedural dataset and real pairs: of every run of consecutive indices, the share
`real_share` (exactly, rounded down over an epoch) are real pairs, each drawing its photo from the sample's seed,
so that the sampler's shuffling spreads them through the epoch and every epoch shows other crops and photos.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from spade.errors import GauguinError
from spade.inference import to_rgb
from spade.labels import LabelSet, labels_from_image, open_image, resize_labels

from .data import Augment, pil_to_tensor
from .errors import TrainError
from .label_photos import LABELS_DIR

SET_INFO = "photos.json"  # written beside the photos by train.real_photos: each photo's set
TRAINABLE_SET = "fit"
ASPECT_TOLERANCE = 0.02   # a label map may differ this much in aspect ratio from its photo (rounding)


def fit_photo_names(photo_dir: Path) -> list[str]:
    """The names of the folder's photos that may be trained on; TrainError if any may not."""
    info_path = photo_dir / SET_INFO
    if not info_path.is_file():
        raise TrainError(f"--real_pairs {photo_dir}: no {SET_INFO} saying which set its photos belong to (write "
                         f"the folder with python -m train.real_photos fit {photo_dir})")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        sets = {name: entry["set"] for name, entry in info.items()}
    except (OSError, UnicodeDecodeError, ValueError, AttributeError, KeyError, TypeError) as e:
        raise TrainError(f"--real_pairs: {info_path} is not a set description ({e})") from None
    held_out = sorted(name for name, s in sets.items() if s != TRAINABLE_SET)
    if held_out:
        raise TrainError(f"--real_pairs {photo_dir}: {', '.join(held_out)} "
                         f"{'is' if len(held_out) == 1 else 'are'} not of the fit set "
                         f"({sets[held_out[0]]}); tune and report photos are never trained on")
    return sorted(sets)


class RealPairDataset(Dataset):
    """(photo, label map) pairs by name; indexed by (index, augmentation seed) as EpochSampler hands out."""

    def __init__(self, photo_dir: str | Path, label_dir: str | Path, label_set: LabelSet, crop: int,
                 flip: bool = True, max_scale: float = 1.25):
        self.photo_dir, self.label_dir = Path(photo_dir), Path(label_dir)
        self.label_set, self.crop, self.max_scale = label_set, crop, max_scale
        self.augment = Augment(crop, crop, crop, flip)
        names = fit_photo_names(self.photo_dir)
        missing = [n for n in names if not (self.photo_dir / f"{n}.png").is_file()]
        if missing:
            raise TrainError(f"--real_pairs {self.photo_dir}: {SET_INFO} names photos that are not there: "
                             f"{', '.join(missing[:5])}")
        self.names = [n for n in names if (self.label_dir / f"{n}.png").is_file()]
        if not self.names:
            raise TrainError(f"--real_pairs {self.photo_dir}: none of its photos has a label map in "
                             f"{self.label_dir}")

    def __len__(self) -> int:
        return len(self.names)

    def load(self, index: int) -> tuple[Image.Image, np.ndarray]:
        """The photo and its label map, at the photo's size."""
        name = self.names[index]
        photo = to_rgb(open_image(self.photo_dir / f"{name}.png", "photo", TrainError))
        label_path = self.label_dir / f"{name}.png"
        try:
            labels = labels_from_image(open_image(label_path, "label map", TrainError), self.label_set,
                                       source=str(label_path))
        except GauguinError as e:
            raise TrainError(str(e)) from None
        h, w = labels.shape
        if abs(photo.width / photo.height - w / h) > ASPECT_TOLERANCE * w / h:
            raise TrainError(f"{name}: the photo is {photo.width}x{photo.height} but its label map {label_path} "
                             f"is {w}x{h}, another shape")
        return photo, resize_labels(labels, photo.height, photo.width)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        photo, labels = self.load(index)
        scale = np.random.default_rng([seed, 1]).uniform(1.0, self.max_scale)
        factor = self.crop * scale / min(photo.size)
        size = (max(self.crop, round(photo.width * factor)), max(self.crop, round(photo.height * factor)))
        photo = photo.resize(size, Image.Resampling.BICUBIC)
        labels = resize_labels(labels, size[1], size[0])
        image, label = self.augment.crop_and_flip(pil_to_tensor(photo), torch.from_numpy(labels.astype(np.int64)),
                                                  seed)
        return {"image": image, "label": label, "path": str(self.photo_dir / f"{self.names[index]}.png")}


class MixedDataset(Dataset):
    """A procedural dataset of which the share `real_share` of indices are real pairs instead."""

    def __init__(self, procedural: Dataset, real: RealPairDataset, real_share: float):
        self.procedural, self.real, self.real_share = procedural, real, real_share

    def __len__(self) -> int:
        return len(self.procedural)  # type: ignore[arg-type]

    def is_real(self, index: int) -> bool:
        return math.floor((index + 1) * self.real_share) > math.floor(index * self.real_share)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        if self.is_real(index):
            return self.real[(seed % len(self.real), seed)]
        return self.procedural[key]

