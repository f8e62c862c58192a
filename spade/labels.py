"""Label sets (class ids, names, display colours) and reading/writing label maps.

A label map is an integer array of class ids, shape (H, W). Colour is only for display and for
reading masks that were painted in a palette: it never enters the model.
"""
from __future__ import annotations

import csv
import math
import os
import stat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .atomic import atomic_write
from .errors import GauguinError, MaskError
from .paths import ADE20K_CLASSES_CSV, CITYSCAPES_CLASSES_CSV, COCOSTUFF_CLASSES_CSV

MAX_IMAGE_PIXELS = 16384 * 16384  # masks and style photos larger than this are refused
SKY_NAMES = ("sky", "sky-other", "clouds")  # the class names a photo's sky colour is given to (spade/tone.py)


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of classes; the id of a class is its index (0 is 'unlabeled').

    `codes` holds the value each class has in the set's index PNGs when that is not its id (COCO-Stuff
    stores 0..181 for its classes and 255 for unlabeled, so id k is stored as k-1 and id 0 as 255).
    `name` identifies the set (the bundled ones by it); `title` is what people read when it is not the name.
    """

    name: str
    names: tuple[str, ...]
    colors: np.ndarray = field(repr=False)  # (N, 3) uint8
    aliases: tuple[str, ...] = field(default=(), repr=False)
    codes: tuple[int, ...] = field(default=(), repr=False)
    title: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if len(self.colors) != len(self.names):
            raise MaskError(f"label set {self.name}: {len(self.names)} classes but {len(self.colors)} colours")
        if self.codes and (len(self.codes) != len(self.names) or len(set(self.codes)) != len(self.codes)
                           or min(self.codes) < 0):
            raise MaskError(f"label set {self.name}: index values must be distinct, non-negative, one per class")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def display_name(self) -> str:
        """The set's name in messages: a bundled set's name, a table's declared name, else what it is."""
        if self.title:
            return self.title
        if self.name in BUILTIN_LABEL_SETS:
            return self.name
        return custom_title(self.class_count, self.name)

    @property
    def max_id(self) -> int:
        return len(self.names) - 1

    @property
    def class_count(self) -> int:
        """The classes one can paint: every id but 0 (unlabeled)."""
        return len(self.names) - 1

    def same_classes(self, other: "LabelSet") -> bool:
        """True when both sets have the same classes under the same ids and values (colours may differ)."""
        return self.names == other.names and tuple(self.codes) == tuple(other.codes)

    def code_of(self, class_id: int) -> int:
        """The value class_id has in an index PNG of this set."""
        return self.codes[class_id] if self.codes else class_id

    def code_range(self) -> str:
        """The valid index-PNG values, as runs: '0..150', or '0..181, 255' for COCO-Stuff."""
        values = sorted(self.codes) if self.codes else list(range(len(self.names)))
        runs, start = [], values[0]
        for prev, cur in zip(values, values[1:] + [None]):
            if cur != prev + 1:
                runs.append(f"{start}..{prev}" if prev > start else str(start))
                start = cur
        return ", ".join(runs)

    def ids_from_codes(self, values: np.ndarray, source: str = "mask") -> np.ndarray:
        """Index-PNG values -> class ids; a value outside the set is a MaskError naming it and its pixels."""
        values = np.asarray(values).astype(np.int64)
        uniq, inverse, counts = np.unique(values.ravel(), return_inverse=True, return_counts=True)
        if self.codes:
            table = {c: i for i, c in enumerate(self.codes)}
            ids = np.array([table.get(int(v), -1) for v in uniq], dtype=np.int64)
        else:
            ids = np.where((uniq >= 0) & (uniq <= self.max_id), uniq, -1)
        bad = ids < 0
        if bad.any():
            raise MaskError(f"{source}: values outside {self.display_name}, whose values are {self.code_range()}: "
                            + _describe(uniq[bad], counts[bad], str))
        return ids[inverse].reshape(values.shape).astype(self.id_dtype)

    def codes_from_ids(self, labels: np.ndarray) -> np.ndarray:
        """Class ids -> the values an index PNG of this set stores."""
        if not self.codes:
            return np.asarray(labels)
        return np.asarray(self.codes, dtype=np.int64)[np.asarray(labels, dtype=np.int64)]

    @property
    def id_dtype(self) -> type:
        """The dtype of this set's label maps: the one place that decides it (uint8 up to 256 classes)."""
        return np.uint8 if self.max_id < 256 else np.int32

    @property
    def code_dtype(self) -> type:
        """The dtype of this set's index PNGs: 8 bits a pixel when every value fits, else 16."""
        top = max(self.codes) if self.codes else self.max_id
        return np.uint8 if top < 256 else np.uint16

    def as_ids(self, labels: np.ndarray) -> np.ndarray:
        """`labels` as a label map of this set, in its dtype; an id outside the set is a MaskError, never
        wrapped into another class."""
        labels = np.asarray(labels)
        if labels.size and (labels.min() < 0 or labels.max() > self.max_id):
            raise MaskError(f"class ids {labels.min()}..{labels.max()} lie outside {self.display_name}, whose ids "
                            f"are 0..{self.max_id}")
        return np.ascontiguousarray(labels, dtype=self.id_dtype)

    def id_of(self, name: str) -> int:
        """The id of a class by name or alias (case-insensitive)."""
        key = name.strip().lower()
        for i, (n, a) in enumerate(zip(self.names, self.aliases or [""] * len(self))):
            if key == n.lower() or key in [x.strip().lower() for x in a.split(";") if x]:
                return i
        raise KeyError(f"no class named {name!r} in {self.display_name}")

    @property
    def sky_ids(self) -> tuple[int, ...]:
        """The classes that are sky: 'sky' (ADE20K, Cityscapes), 'sky-other' and 'clouds' (COCO-Stuff)."""
        return tuple(i for i, n in enumerate(self.names) if n.lower() in SKY_NAMES)

    def colorize(self, labels: np.ndarray) -> np.ndarray:
        """RGB display image (H, W, 3) uint8 of a label map."""
        return self.colors[np.clip(labels, 0, self.max_id)]

    def to_dict(self) -> dict:
        d = {"name": self.name, "names": list(self.names), "colors": self.colors.tolist(),
             "aliases": list(self.aliases)}
        if self.codes:
            d["codes"] = list(self.codes)
        if self.title:
            d["title"] = self.title
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LabelSet":
        return cls(d["name"], tuple(d["names"]), np.asarray(d["colors"], dtype=np.uint8).reshape(-1, 3),
                   tuple(d.get("aliases", ())), tuple(int(c) for c in d.get("codes", ())), str(d.get("title", "")))

    @classmethod
    def from_csv(cls, path: str | Path, name: str | None = None) -> "LabelSet":
        """Read a class table with columns id,name[,aliases],r,g,b (ids 0..N-1, 0 = unlabeled), or
        png_value,name,...,r,g,b: ids in row order (the first row is unlabeled), png_value as stored in masks.
        An optional `label_set` column names the set (its first row's value); a table without one is
        "custom (N classes, FILE)" in messages. `name` (the bundled sets') names the set instead."""
        path = Path(path)
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            if not rows:
                raise MaskError(f"{path}: the class table has no rows")
            codes: tuple[int, ...] = ()
            if "id" in rows[0]:
                rows.sort(key=lambda r: int(r["id"]))
                ids = [int(r["id"]) for r in rows]
                if ids != list(range(len(ids))):
                    raise MaskError(f"{path}: class ids must run 0..{len(ids) - 1} without gaps")
            else:
                codes = tuple(int(r["png_value"]) for r in rows)
                if codes == tuple(range(len(rows))):
                    codes = ()
            names = tuple(r["name"] for r in rows)
            aliases = tuple(r.get("aliases") or "" for r in rows)
            colors = np.array([[int(r["r"]), int(r["g"]), int(r["b"])] for r in rows], dtype=np.uint8)
            declared = (rows[0].get("label_set") or "").strip()
        except (OSError, KeyError, ValueError, TypeError) as e:
            raise MaskError(f"cannot read class table {path}: {e}") from None
        title = "" if name else declared or custom_title(len(names) - 1, path.name)
        return cls(name or path.stem, names, colors, aliases, codes, title)


def custom_title(class_count: int, source: str) -> str:
    """What a set of one's own is called in messages: "custom (5 classes, classes.csv)"."""
    return f"custom ({class_count} classes, {source})"


@lru_cache(maxsize=1)
def ade20k() -> LabelSet:
    """The ADE20K scene-parsing label set: 0 unlabeled, 1..150 classes, standard colours."""
    return LabelSet.from_csv(ADE20K_CLASSES_CSV, name="ade20k")


@lru_cache(maxsize=1)
def cocostuff() -> LabelSet:
    """COCO-Stuff: 182 classes stored as 0..181 (255 unlabeled), with Gauguin's material palette (docs/models.md)."""
    return LabelSet.from_csv(COCOSTUFF_CLASSES_CSV, name="cocostuff")


@lru_cache(maxsize=1)
def cityscapes() -> LabelSet:
    """Cityscapes label ids 0..33 with their standard colours."""
    return LabelSet.from_csv(CITYSCAPES_CLASSES_CSV, name="cityscapes")


BUILTIN_LABEL_SETS = {"ade20k": ade20k, "cocostuff": cocostuff, "cityscapes": cityscapes}
_BUILTIN_ALIASES = {"ade": "ade20k", "coco": "cocostuff", "coco-stuff": "cocostuff", "coco_stuff": "cocostuff"}


def builtin_label_set(name: str) -> LabelSet | None:
    """A bundled label set by name ('ade20k', 'cocostuff' or 'coco', 'cityscapes'), else None."""
    key = name.strip().lower()
    make = BUILTIN_LABEL_SETS.get(_BUILTIN_ALIASES.get(key, key))
    return make() if make else None


def label_set_from_spec(spec: str | Path) -> LabelSet:
    """A bundled label set by name, or a CSV class table by path (MaskError when neither)."""
    found = builtin_label_set(str(spec))
    if found is not None:
        return found
    if not Path(spec).is_file():
        raise MaskError(f"{spec}: neither a bundled label set ({', '.join(BUILTIN_LABEL_SETS)}) nor a CSV file")
    return LabelSet.from_csv(spec)


def _palette_lookup(label_set: LabelSet) -> dict[int, int]:
    """Packed RGB -> id. When two classes share a colour the lower id wins (ADE20K: road over skyscraper)."""
    table: dict[int, int] = {}
    for i, (r, g, b) in enumerate(label_set.colors.astype(np.int64)):
        table.setdefault(int((r << 16) | (g << 8) | b), i)
    return table


def _describe(values: np.ndarray, counts: np.ndarray, fmt) -> str:
    order = np.argsort(-counts)[:5]
    parts = [f"{fmt(values[i])} ({int(counts[i])} px)" for i in order]
    more = len(values) - len(order)
    return ", ".join(parts) + (f" and {more} more" if more > 0 else "")


def labels_from_image(img: Image.Image, label_set: LabelSet, source: str = "mask") -> np.ndarray:
    """Turn an index image (mode L, P, I) or a palette-painted RGB image into a label map (uint8/int32)."""
    if img.mode in ("L", "P", "I", "I;16"):
        return label_set.ids_from_codes(np.asarray(img), source)
    if img.mode not in ("RGB", "RGBA"):
        raise MaskError(f"{source}: unsupported image mode {img.mode}; use an index PNG or an RGB palette image")
    rgb = np.asarray(img.convert("RGB")).astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    values, inverse, counts = np.unique(packed.ravel(), return_inverse=True, return_counts=True)
    table = _palette_lookup(label_set)
    ids = np.array([table.get(int(v), -1) for v in values], dtype=np.int64)
    bad = ids < 0
    if bad.any():
        raise MaskError(f"{source}: colours outside the palette of {label_set.display_name}: "
                        + _describe(values[bad], counts[bad],
                                    lambda v: f"#{int(v):06x}"))
    return ids[inverse].reshape(packed.shape).astype(label_set.id_dtype)


def check_regular_file(path: Path, what: str, error: type[GauguinError] = GauguinError) -> None:
    """Refuse what is not a readable regular file before opening it (a FIFO would block the reader forever),
    with a message that says which it is."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except PermissionError:
        raise error(f"cannot read {what} {path}: permission denied") from None
    except OSError as e:
        raise error(f"cannot read {what} {path}: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise error(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise error(f"{what} {path} is not a regular file (a pipe or a device)")
    if not os.access(path, os.R_OK):
        raise error(f"cannot read {what} {path}: permission denied")


def open_image(path: Path, what: str, error: type[GauguinError], draft: int | None = None) -> Image.Image:
    """Open and decode an image file, every failure (too large, damaged, unreadable) as one `error` line.

    `draft` (pixels): the image is only needed at this size on its long side, so a JPEG may be decoded at a
    reduced scale that keeps the long side at least that large (several times faster for a camera photo)."""
    check_regular_file(path, what, error)
    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise error(f"{what} {path} is {img.width}x{img.height}, too large to open")
            if draft is not None:
                scale = draft / max(img.width, img.height)
                img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
            img.load()
            return img
    except Image.DecompressionBombError:
        raise error(f"{what} {path} is too large to open (a decompression bomb?)") from None
    except UnidentifiedImageError:
        raise error(f"cannot read {what} {path}: not an image format Pillow can open") from None
    except PermissionError:
        raise error(f"cannot read {what} {path}: permission denied") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise error(f"cannot read {what} {path}: {e}") from None
    except MemoryError:
        raise error(f"{what} {path} is too large to open") from None


def read_mask(path: str | Path, label_set: LabelSet | None = None) -> np.ndarray:
    """Read a label map from an index PNG (values are ids) or an RGB image painted in the palette."""
    label_set = label_set or ade20k()
    path = Path(path)
    return labels_from_image(open_image(path, "mask", MaskError), label_set, source=str(path))


def save_image(path: str | Path, image: Image.Image) -> None:
    """Save atomically; the format follows the extension (JPEG gets RGB and quality 95)."""
    fmt = Image.registered_extensions().get(Path(path).suffix.lower())
    if fmt is None:
        raise ValueError(f"unknown image extension: {Path(path).suffix or '(none)'} (use .png or .jpg)")
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    kwargs = {"quality": 95} if fmt == "JPEG" else {}
    atomic_write(path, lambda tmp: image.save(tmp, format=fmt, **kwargs))


def index_image(labels: np.ndarray, label_set: LabelSet | None = None) -> Image.Image:
    """A label map as the index image of its set's values (ADE20K: the ids themselves), 8 or 16 bits a pixel
    as the set's code_dtype says; read_mask and labels_from_image read both back."""
    label_set = label_set or ade20k()
    codes, dtype = label_set.codes_from_ids(labels), label_set.code_dtype
    if codes.max(initial=0) > np.iinfo(dtype).max or codes.min(initial=0) < 0:
        raise MaskError(f"label values must lie in 0..{np.iinfo(dtype).max} for an index PNG of {label_set.name}")
    return Image.fromarray(codes.astype(dtype))


def write_index_png(path: str | Path, labels: np.ndarray, label_set: LabelSet | None = None) -> None:
    """Write a label map as an index PNG holding the set's values (index_image)."""
    save_image(path, index_image(labels, label_set))


def write_color_png(path: str | Path, labels: np.ndarray, label_set: LabelSet | None = None) -> None:
    """Write the label map in its palette colours (for people; read back with read_mask)."""
    save_image(path, Image.fromarray((label_set or ade20k()).colorize(labels)))


def resize_labels(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of a label map: every output pixel takes the id at its centre, never a blend."""
    h, w = labels.shape
    if (h, w) == (height, width):
        return labels
    ys = np.minimum((np.arange(height) + 0.5) * h / height, h - 1).astype(np.int64)
    xs = np.minimum((np.arange(width) + 0.5) * w / width, w - 1).astype(np.int64)
    return labels[ys[:, None], xs[None, :]]
