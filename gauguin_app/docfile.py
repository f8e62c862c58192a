"""The `.gauguin` document: a zip holding everything needed to reopen work exactly (no Qt).

    manifest.json       format, version, label set (its name; the whole table for a set that is not bundled),
                        canvas size and settings, style (seeds, blend), model reference
    sketch.png          the label map as an index PNG in the label set's values (ADE20K: its annotation
                        format; COCO-Stuff: 0..181 and 255 for unlabeled), 16-bit for a set with values past 255
    style_a.png         the style photo, when the style comes from a photo (style_b.png for a blend partner)
    latents/<i>.npy     the styles the model computed (latent and photo tone; keys in the manifest), so
                        reopening with the same model gives the same photo
"""
from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from spade.errors import GauguinError
from spade.atomic import atomic_write
from spade.labels import LabelSet, ade20k, builtin_label_set, check_regular_file, index_image, labels_from_image
from spade.limits import check_canvas_size, read_member

from .document import CanvasSettings, Document, StyleSettings, StyleSource

FORMAT = "gauguin-document"
VERSION = 1
SUFFIX = ".gauguin"


class DocumentError(GauguinError):
    """A document that cannot be read or written."""


def _damage(error: BaseException) -> str:
    """What went wrong in words a user can act on (the exception's class name means nothing to them)."""
    if isinstance(error, zipfile.BadZipFile):
        return "truncated, or not a zip archive"
    if isinstance(error, (zlib.error, EOFError)):
        return "its compressed data is corrupt or cut short"
    if isinstance(error, (NotImplementedError, RuntimeError)):
        return "encrypted or compressed in a way Gauguin does not read"
    if isinstance(error, json.JSONDecodeError):
        return "its manifest is not valid JSON"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    if isinstance(error, ValueError) and "limit" in str(error):
        return str(error)
    return "its contents are not what a Gauguin document holds"


def _source_to_dict(s: StyleSource) -> dict:
    return {"kind": s.kind, "seed": int(s.seed), "name": s.name}


def write_document(path: str | Path, doc: Document, extra: dict | None = None) -> None:
    """Write `doc` to `path` atomically (a crash mid-write leaves the previous file intact)."""
    path = Path(path)
    style = doc.style
    manifest = {
        "format": FORMAT, "version": VERSION, "label_set": doc.label_set.name,
        **({} if builtin_label_set(doc.label_set.name) is doc.label_set else
           {"label_set_table": doc.label_set.to_dict()}),
        "canvas": {"height": doc.shape[0], "width": doc.shape[1], "brush_size": doc.canvas.brush_size,
                   "overlay": doc.canvas.overlay, "overlay_opacity": doc.canvas.overlay_opacity},
        "style": {"a": _source_to_dict(style.a), "b": _source_to_dict(style.b) if style.b else None,
                  "t": float(style.t)},
        "model": doc.model_ref,
        "latents": sorted(doc.latents),
        **(extra or {}),
    }
    sketch = io.BytesIO()
    index_image(doc.labels, doc.label_set).save(sketch, format="PNG")

    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest, indent=1))
            z.writestr("sketch.png", sketch.getvalue())
            for name, src in (("a", style.a), ("b", style.b)):
                if src is not None and src.image_png is not None:
                    z.writestr(f"style_{name}.png", src.image_png)
            for i, key in enumerate(manifest["latents"]):
                buf = io.BytesIO()
                np.save(buf, np.asarray(doc.latents[key], dtype=np.float32), allow_pickle=False)
                z.writestr(f"latents/{i}.npy", buf.getvalue())

    try:
        atomic_write(path, write)
    except OSError as e:
        raise DocumentError(f"cannot save {path.name}: {e.strerror or e}") from None


# Caps on what a document may expand to (a zip bomb must not exhaust memory).
MANIFEST_CAP = 1 << 20
IMAGE_CAP = 64 << 20
LATENT_CAP = 16 << 20
BRUSH_RANGE = (1, 200)
SEED_RANGE = (0, 2**63 - 1)


def _number(value: object, what: str, low: float, high: float, integer: bool = False) -> float | int:
    """`value` as a finite number in [low, high], else a DocumentError naming the setting."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and integer and isinstance(value, float):
        ok = value.is_integer()
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise DocumentError(f"{what} is {value!r}; it must be a number from {low:g} to {high:g}")
    return int(value) if integer else float(value)


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise DocumentError(f"{what} is {value!r}; it must be true or false")
    return value


def _source_from_dict(d: object, z: zipfile.ZipFile, name: str) -> StyleSource:
    if not isinstance(d, dict):
        raise DocumentError(f"style {name} is {d!r}, not a style")
    kind = d.get("kind", "seed")
    if kind not in ("seed", "image"):
        raise DocumentError(f"unknown style kind {kind!r}")
    seed = _number(d.get("seed", 0), f"the seed of style {name}", *SEED_RANGE, integer=True)
    label = str(d.get("name", ""))
    if kind == "seed":
        return StyleSource(kind, seed, None, label)
    member = f"style_{name}.png"
    try:
        return StyleSource.from_png(read_member(z, member, IMAGE_CAP), label, seed)
    except KeyError:
        raise DocumentError(f"the style photo {member} is missing") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DocumentError(f"the style photo {member} is not a readable image ({e})") from None


def _read_sketch(z: zipfile.ZipFile, label_set: LabelSet) -> np.ndarray:
    try:
        data = read_member(z, "sketch.png", IMAGE_CAP)
    except KeyError:
        raise DocumentError("it has no sketch") from None
    with Image.open(io.BytesIO(data)) as img:
        check_canvas_size(img.height, img.width, "the sketch")
        img.load()
        return labels_from_image(img, label_set, source="sketch.png")


def _parse(path: Path, z: zipfile.ZipFile, label_set: LabelSet) -> tuple[Document, dict]:
    """Read and check everything first; the Document is built only from values known to be good."""
    try:
        manifest = json.loads(read_member(z, "manifest.json", MANIFEST_CAP))
    except KeyError:
        raise DocumentError(f"{path.name} is not a Gauguin document (no manifest)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DocumentError(f"{path.name} is not a Gauguin document")
    version = _number(manifest.get("version", 0), "the format version", 0, 10**6, integer=True)
    if version > VERSION:
        raise DocumentError(f"{path.name} was written by a newer Gauguin (version {version})")
    label_set = _recorded_label_set(manifest, label_set)
    canvas, st = manifest.get("canvas", {}), manifest.get("style", {})
    if not isinstance(canvas, dict) or not isinstance(st, dict):
        raise DocumentError("its canvas or style settings are not a table of values")
    settings = CanvasSettings(_number(canvas.get("brush_size", 24), "the brush size", *BRUSH_RANGE, integer=True),
                              _flag(canvas.get("overlay", False), "the overlay setting"),
                              _number(canvas.get("overlay_opacity", 0.5), "the overlay opacity", 0, 1))
    style = StyleSettings(_source_from_dict(st.get("a") or {}, z, "a"),
                          _source_from_dict(st["b"], z, "b") if st.get("b") else None,
                          _number(st.get("t", 0.0), "the style blend", 0, 1))
    keys = manifest.get("latents", [])
    if not isinstance(keys, list):
        raise DocumentError("its list of style latents is not a list")
    latents = {}
    for i, key in enumerate(keys):
        try:
            latents[str(key)] = np.load(io.BytesIO(read_member(z, f"latents/{i}.npy", LATENT_CAP)),
                                        allow_pickle=False)
        except KeyError:
            continue
    labels = _read_sketch(z, label_set)
    doc = Document(labels, label_set)
    doc.canvas, doc.style, doc.latents = settings, style, latents
    doc.model_ref = str(manifest.get("model", ""))
    return doc, manifest


def _recorded_label_set(manifest: dict, fallback: LabelSet) -> LabelSet:
    """The label set a document was painted in: its table, a bundled set by name, else `fallback`."""
    if isinstance(manifest.get("label_set_table"), dict):
        return LabelSet.from_dict(manifest["label_set_table"])
    return builtin_label_set(str(manifest.get("label_set", ""))) or fallback


def read_document(path: str | Path, label_set: LabelSet | None = None) -> tuple[Document, dict]:
    """Read a document in the label set it records (`label_set`, default ADE20K, for documents that record
    none); returns it (marked saved, path set) and the raw manifest. Whatever is wrong with the file (damaged,
    crafted, a folder or a pipe) is one DocumentError; nothing is applied before all is read."""
    path = Path(path)
    label_set = label_set or ade20k()
    try:
        check_regular_file(path, "document")
        with zipfile.ZipFile(path) as z:
            doc, manifest = _parse(path, z, label_set)
    except DocumentError as e:
        text = str(e)
        raise DocumentError(text if text.startswith(path.name) else f"{path.name}: {text}") from None
    except GauguinError as e:
        raise DocumentError(f"{path.name}: {e}") from None
    except (Image.DecompressionBombError, MemoryError):
        raise DocumentError(f"{path.name}: its sketch or style photo is too large to open") from None
    except RecursionError:
        raise DocumentError(f"{path.name} is damaged or not a Gauguin document (its manifest is nested too "
                            f"deeply)") from None
    except Exception as e:  # a crafted zip can raise almost anything from zipfile, zlib, json, Pillow, numpy
        raise DocumentError(f"{path.name} is damaged or not a Gauguin document ({_damage(e)})") from None
    doc.path = path
    doc.mark_saved()
    return doc, manifest
