"""Training data: (photo, label map) pairs from folders, ADE20K, COCO-Stuff, Cityscapes or the procedural
generator.

Every dataset yields dicts {"image": float (3, H, W) in [-1, 1], "label": long (H, W) class ids,
"path": str}, plus "instance": long (H, W) instance ids where the dataset has instance maps (COCO-Stuff,
Cityscapes; a sample without one gets its label map, whose edges are the class borders). The augmentation (resize, one random crop and flip shared by image and label) is drawn from a
seed the sampler hands out with each index, so an epoch's batches are the same whatever the number of
loader workers, and a resumed run sees exactly the samples an uninterrupted one would have seen.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import Dataset, Sampler

from spade.errors import GauguinError
from spade.inference import to_rgb
from spade.instances import read_instance_map
from spade.labels import LabelSet, labels_from_image, open_image, resize_labels

from .errors import TrainError
from .options import TrainConfig, parse_setting_weights

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
LABEL_EXTENSIONS = (".png", ".bmp", ".tif", ".tiff", ".gif", ".webp")
MAX_LISTED = 5


def _files_by_stem(folder: Path, extensions: Sequence[str], what: str) -> dict[str, Path]:
    """{stem: file} of the folder's files (recursive); two files with one stem are an error."""
    if not folder.is_dir():
        raise TrainError(f"{what} folder not found: {folder}")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in extensions or not path.is_file() or path.name.startswith("."):
            continue
        if path.stem in found:
            raise TrainError(f"{what} folder {folder}: two files share the stem {path.stem!r} "
                             f"({found[path.stem].name}, {path.relative_to(folder)}); stems pair photos with labels")
        found[path.stem] = path
    if not found:
        raise TrainError(f"{what} folder {folder} holds no {'/'.join(e[1:] for e in extensions)} files")
    return found


def _listing(stems: list[str]) -> str:
    more = len(stems) - MAX_LISTED
    return ", ".join(stems[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def pair_files(image_dir: Path, label_dir: Path, check: bool) -> list[tuple[Path, Path]]:
    """Photos and label maps matched by file stem; with `check`, any unmatched file is an error."""
    images = _files_by_stem(image_dir, IMAGE_EXTENSIONS, "image")
    labels = _files_by_stem(label_dir, LABEL_EXTENSIONS, "label")
    no_label = sorted(set(images) - set(labels))
    no_image = sorted(set(labels) - set(images))
    common = sorted(set(images) & set(labels))
    if check and (no_label or no_image):
        parts = []
        if no_label:
            parts.append(f"{len(no_label)} photos without a label map ({_listing(no_label)})")
        if no_image:
            parts.append(f"{len(no_image)} label maps without a photo ({_listing(no_image)})")
        raise TrainError(f"pairing check failed for {image_dir} and {label_dir}: {'; '.join(parts)} "
                         f"(--no_pairing_check trains on the {len(common)} pairs found)")
    if not common:
        raise TrainError(f"no photo in {image_dir} has a label map of the same file stem in {label_dir}")
    return [(images[s], labels[s]) for s in common]


def ade20k_folders(root: Path) -> tuple[Path, Path]:
    """(images/training, annotations/training) of an ADEChallengeData2016 folder (or its parent)."""
    for base in (root, root / "ADEChallengeData2016"):
        images, labels = base / "images" / "training", base / "annotations" / "training"
        if images.is_dir() and labels.is_dir():
            return images, labels
    raise TrainError(f"{root}: not the ADE20K layout (expected images/training and annotations/training of "
                     f"ADEChallengeData2016)")


def coco_folders(root: Path) -> tuple[Path, Path, Path | None]:
    """(train_img, train_label, train_inst or None) of a COCO-Stuff folder as the reference trainer reads it."""
    images, labels, instances = root / "train_img", root / "train_label", root / "train_inst"
    if not (images.is_dir() and labels.is_dir()):
        raise TrainError(f"{root}: not the COCO-Stuff layout (expected train_img, train_label and optionally "
                         f"train_inst)")
    return images, labels, instances if instances.is_dir() else None


CITYSCAPES_SUFFIXES = {"image": "_leftImg8bit", "label": "_gtFine_labelIds", "instance": "_gtFine_instanceIds"}


def cityscapes_triples(root: Path, check: bool) -> list[tuple[Path, Path, Path | None]]:
    """(photo, *_labelIds, *_instanceIds or None) of leftImg8bit/train and gtFine/train, matched by city and
    frame (the part of the name before the suffix)."""
    image_dir, label_dir = root / "leftImg8bit" / "train", root / "gtFine" / "train"
    if not (image_dir.is_dir() and label_dir.is_dir()):
        raise TrainError(f"{root}: not the Cityscapes layout (expected leftImg8bit/train and gtFine/train)")

    def by_frame(folder: Path, suffix: str) -> dict[str, Path]:
        return {p.name[: -len(suffix + ".png")]: p for p in sorted(folder.rglob(f"*{suffix}.png"))}

    images = by_frame(image_dir, CITYSCAPES_SUFFIXES["image"])
    labels = by_frame(label_dir, CITYSCAPES_SUFFIXES["label"])
    instances = by_frame(label_dir, CITYSCAPES_SUFFIXES["instance"])
    common = sorted(set(images) & set(labels))
    unmatched = sorted(set(images) ^ set(labels))
    if check and unmatched:
        raise TrainError(f"pairing check failed for {root}: {len(unmatched)} frames without a photo or a "
                         f"*_gtFine_labelIds.png ({_listing(unmatched)}) (--no_pairing_check trains on the "
                         f"{len(common)} pairs found)")
    if not common:
        raise TrainError(f"{root}: no *_leftImg8bit.png has a *_gtFine_labelIds.png of the same frame")
    return [(images[k], labels[k], instances.get(k)) for k in common]


class Augment:
    """Resize (bicubic photo, nearest labels), then one random crop and flip applied to both."""

    def __init__(self, height: int, width: int, crop: int, flip: bool):
        self.height, self.width, self.crop, self.flip = height, width, crop, flip

    def crop_and_flip(self, image: torch.Tensor, label: torch.Tensor, seed: int,
                      instance: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """(image, label) cropped and flipped alike, and the instance map too when given."""
        rng = np.random.default_rng(seed)
        h, w = label.shape
        top = int(rng.integers(0, h - self.crop + 1))
        left = int(rng.integers(0, w - self.crop + 1))
        maps = [image, label] + ([instance] if instance is not None else [])
        maps = [m[..., top:top + self.crop, left:left + self.crop] for m in maps]
        if self.flip and rng.random() < 0.5:
            maps = [m.flip(-1) for m in maps]
        return tuple(m.contiguous() for m in maps)

    def resize_tensors(self, image: torch.Tensor, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(label.shape) == (self.height, self.width):
            return image, label
        size = (self.height, self.width)
        image = F.interpolate(image[None], size=size, mode="bicubic", align_corners=False,
                              antialias=True)[0].clamp(-1, 1)
        label = F.interpolate(label[None, None].float(), size=size, mode="nearest")[0, 0].long()
        return image, label

    def resize_pil(self, image: Image.Image, label: Image.Image) -> tuple[Image.Image, Image.Image]:
        size = (self.width, self.height)
        if image.size != size:
            image = image.resize(size, Image.Resampling.BICUBIC)
        if label.size != size:
            label = label.resize(size, Image.Resampling.NEAREST)
        return image, label


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0).permute(2, 0, 1)


class PairedFolderDataset(Dataset):
    """Pairs of files; indexed by (index, augmentation seed) as handed out by EpochSampler."""

    def __init__(self, pairs: list[tuple[Path, Path]], label_set: LabelSet, augment: Augment,
                 instances: list[Path | None] | None = None):
        self.pairs, self.label_set, self.augment = pairs, label_set, augment
        self.instances = instances  # None: the dataset has no instance maps; an entry None: this sample has none

    def __len__(self) -> int:
        return len(self.pairs)

    def load(self, index: int) -> tuple[Image.Image, Image.Image]:
        image_path, label_path = self.pairs[index]
        image = to_rgb(open_image(image_path, "photo", TrainError))
        label = open_image(label_path, "label map", TrainError)
        if label.mode not in ("L", "P", "I", "I;16", "RGB", "RGBA"):
            label = label.convert("RGB")
        if image.size != label.size:
            raise TrainError(f"{image_path.name} is {image.size[0]}x{image.size[1]} but its label map "
                             f"{label_path} is {label.size[0]}x{label.size[1]}")
        return image, label

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        image, label = self.load(index)
        label_path = self.pairs[index][1]
        try:
            instance = self._instance(index, label.size) if self.instances is not None else None
        except GauguinError as e:
            raise TrainError(str(e)) from None
        image, label = self.augment.resize_pil(image, label)
        if label.mode == "P":
            label = Image.fromarray(np.asarray(label))
        try:
            ids = labels_from_image(label, self.label_set, source=str(label_path))
        except GauguinError as e:
            raise TrainError(str(e)) from None
        label_t = torch.from_numpy(ids.astype(np.int64))
        if instance is not None:
            instance = torch.from_numpy(resize_labels(instance, label.size[1], label.size[0]))
        elif self.instances is not None:
            instance = label_t
        maps = self.augment.crop_and_flip(pil_to_tensor(image), label_t, seed, instance)
        item = {"image": maps[0], "label": maps[1], "path": str(self.pairs[index][0])}
        if instance is not None:
            item["instance"] = maps[2]
        return item

    def _instance(self, index: int, size: tuple[int, int]) -> np.ndarray | None:
        """The sample's instance ids (its label map's (width, height) = size), or None when it has none."""
        path = self.instances[index]
        return None if path is None else read_instance_map(path, (size[1], size[0]))


class AugmentedTensorDataset(Dataset):
    """Wraps a dataset of ready tensors (the procedural one) with the shared resize/crop/flip."""

    def __init__(self, base: Dataset, augment: Augment, max_id: int):
        self.base, self.augment, self.max_id = base, augment, max_id

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, seed = key
        item = self.base[index]
        image, label = self.augment.resize_tensors(item["image"].float(), item["label"].long())
        if label.numel() and (int(label.min()) < 0 or int(label.max()) > self.max_id):
            raise TrainError(f"{item.get('path', index)}: label ids outside 0..{self.max_id}")
        image, label = self.augment.crop_and_flip(image, label, seed)
        return {"image": image, "label": label, "path": str(item.get("path", index))}


def own_process_group(_worker_id: int) -> None:
    """worker_init_fn: put the worker in a process group of its own.

    Ctrl+C and `kill -TERM -PGID` reach the whole process group, and a worker that died of them would crash the
    main process before it could save. Out of that group, the main process alone gets the signal, saves a
    checkpoint and then shuts the workers down (its own SIGTERM to a worker still works as a last resort).
    Windows has no process groups of this kind, and its console sends Ctrl+C differently: nothing to do there."""
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)


def _procedural(cfg: TrainConfig) -> Dataset:
    try:
        from train.procedural import ProceduralDataset
    except ImportError as e:
        raise TrainError(f"--dataset procedural: the procedural generator is not available ({e})") from None
    return ProceduralDataset(cfg.dataset_size, size=max(cfg.img_height, cfg.img_width), base_seed=cfg.seed,
                             setting_weights=parse_setting_weights(cfg.procedural_settings))


def build_dataset(cfg: TrainConfig, label_set: LabelSet) -> Dataset:
    """The dataset the options describe; errors about folders are raised here, before any training."""
    augment = Augment(cfg.img_height, cfg.img_width, cfg.crop_size, not cfg.no_flip)
    if cfg.dataset == "procedural":
        if label_set.name != "ade20k" and len(label_set) != 151:
            raise TrainError("--dataset procedural produces ADE20K labels; use --label_set ade20k")
        procedural = AugmentedTensorDataset(_procedural(cfg), augment, label_set.max_id)
        if cfg.real_pairs is None:
            return procedural
        from .real_pairs import MixedDataset, RealPairDataset
        from .label_photos import LABELS_DIR
        real = RealPairDataset(cfg.real_pairs, cfg.real_labels or LABELS_DIR, label_set, cfg.crop_size,
                               not cfg.no_flip)
        return MixedDataset(procedural, real, cfg.real_share)
    with_instances = cfg.dataset in ("coco", "cityscapes") and not cfg.no_instance
    if cfg.dataset == "cityscapes":
        triples = cityscapes_triples(Path(cfg.image_dir), cfg.pairing_check)
        return PairedFolderDataset([(i, lab) for i, lab, _ in triples], label_set, augment,
                                   [inst for _, _, inst in triples] if with_instances else None)
    if cfg.dataset == "coco":
        image_dir, label_dir, inst_dir = coco_folders(Path(cfg.image_dir))
        pairs = pair_files(image_dir, label_dir, cfg.pairing_check)
        instances = None
        if with_instances:
            found = _files_by_stem(inst_dir, LABEL_EXTENSIONS, "instance") if inst_dir else {}
            instances = [found.get(label.stem) for _, label in pairs]
        return PairedFolderDataset(pairs, label_set, augment, instances)
    if cfg.dataset == "ade20k":
        image_dir, label_dir = ade20k_folders(Path(cfg.image_dir))
    else:
        image_dir, label_dir = Path(cfg.image_dir), Path(cfg.label_dir)
    return PairedFolderDataset(pair_files(image_dir, label_dir, cfg.pairing_check), label_set, augment)


def sample_seed(seed: int, epoch: int, index: int) -> int:
    """The augmentation seed of one sample in one epoch (independent of workers and ranks)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0])


class EpochSampler(Sampler):
    """Shuffled, optionally subsampled (--prob_dataset) and sharded epochs that can start mid-way.

    Each epoch draws a permutation from (seed, epoch), keeps the first prob_dataset share, trims it to whole
    global batches, and gives rank r every world_size-th index: all ranks together cover one global batch per
    step, which is what a single process with the full batch would have seen.
    """

    def __init__(self, size: int, batch_size: int, fraction: float, seed: int, rank: int = 0, world_size: int = 1):
        self.size, self.batch_size, self.fraction = size, batch_size, fraction
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch, self.start_batch = 0, 0
        if self.batches_per_epoch == 0:
            raise TrainError(f"the dataset has {size} samples ({int(size * fraction)} with --prob_dataset "
                             f"{fraction}): fewer than one batch of {batch_size}")

    @property
    def batches_per_epoch(self) -> int:
        return max(0, math.floor(self.size * self.fraction)) // self.batch_size

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        self.epoch, self.start_batch = epoch, start_batch

    def _indices(self) -> list[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        order = torch.randperm(self.size, generator=g)[: self.batches_per_epoch * self.batch_size].tolist()
        return order[self.start_batch * self.batch_size:][self.rank::self.world_size]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in self._indices():
            yield index, sample_seed(self.seed, self.epoch, index)

    def __len__(self) -> int:
        return (self.batches_per_epoch - self.start_batch) * self.batch_size // self.world_size
