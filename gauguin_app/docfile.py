"""The `.gauguin` document: a zip holding everything needed to reopen work exactly (no Qt).

    manifest.json       format, version, label set (its name; the whole table for a set that is not bundled),
                        canvas size and settings, style (seeds, blend), model reference
    sketch.png          the label map as an 8-bit index PNG in the label set's values (ADE20K: its annotation
                        format; COCO-Stuff: 0..181 and 255 for unlabeled)
    style_a.png         the style photo, when the style comes from a photo (style_b.png for a blend partner)
    latents/<i>.npy     the style latents the model computed (keys in the manifest), so reopening with
                        the same model gives the same photo
"""
from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from spade.errors import GauguinError
from spade.atomic import atomic_write
from spade.labels import LabelSet, ade20k, builtin_label_set, labels_from_image

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
    return type(error).__name__


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
    Image.fromarray(doc.label_set.codes_from_ids(doc.labels).astype(np.uint8)).save(sketch, format="PNG")

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


def _source_from_dict(d: dict, z: zipfile.ZipFile, name: str) -> StyleSource:
    kind = d.get("kind", "seed")
    if kind not in ("seed", "image"):
        raise DocumentError(f"unknown style kind {kind!r}")
    png = None
    if kind == "image":
        try:
            png = z.read(f"style_{name}.png")
        except KeyError:
            raise DocumentError(f"the style photo style_{name}.png is missing") from None
    return StyleSource(kind, int(d.get("seed", 0)), png, str(d.get("name", "")))


def _recorded_label_set(manifest: dict, fallback: LabelSet) -> LabelSet:
    """The label set a document was painted in: its table, a bundled set by name, else `fallback`."""
    if isinstance(manifest.get("label_set_table"), dict):
        return LabelSet.from_dict(manifest["label_set_table"])
    return builtin_label_set(str(manifest.get("label_set", ""))) or fallback


def read_document(path: str | Path, label_set: LabelSet | None = None) -> tuple[Document, dict]:
    """Read a document in the label set it records (`label_set`, default ADE20K, for documents that record
    none); returns it (marked saved, path set) and the raw manifest."""
    path = Path(path)
    label_set = label_set or ade20k()
    try:
        with zipfile.ZipFile(path) as z:
            try:
                manifest = json.loads(z.read("manifest.json"))
            except KeyError:
                raise DocumentError(f"{path.name} is not a Gauguin document (no manifest)") from None
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise DocumentError(f"{path.name} is not a Gauguin document")
            if int(manifest.get("version", 0)) > VERSION:
                raise DocumentError(f"{path.name} was written by a newer Gauguin (version {manifest['version']})")
            label_set = _recorded_label_set(manifest, label_set)
            try:
                with Image.open(io.BytesIO(z.read("sketch.png"))) as img:
                    img.load()
                    labels = labels_from_image(img, label_set, source="sketch.png")
            except KeyError:
                raise DocumentError(f"{path.name} has no sketch") from None
            doc = Document(labels, label_set)
            canvas = manifest.get("canvas", {})
            doc.canvas = CanvasSettings(int(canvas.get("brush_size", 24)), bool(canvas.get("overlay", False)),
                                        float(canvas.get("overlay_opacity", 0.5)))
            st = manifest.get("style", {})
            doc.style = StyleSettings(_source_from_dict(st.get("a") or {}, z, "a"),
                                      _source_from_dict(st["b"], z, "b") if st.get("b") else None,
                                      float(st.get("t", 0.0)))
            for i, key in enumerate(manifest.get("latents", [])):
                try:
                    doc.latents[str(key)] = np.load(io.BytesIO(z.read(f"latents/{i}.npy")),
                                               allow_pickle=False)
                except KeyError:
                    continue
            doc.model_ref = str(manifest.get("model", ""))
    except DocumentError:
        raise
    except GauguinError as e:
        raise DocumentError(f"{path.name}: {e}") from None
    except FileNotFoundError:
        raise DocumentError(f"file not found: {path}") from None
    except (zipfile.BadZipFile, json.JSONDecodeError, UnidentifiedImageError, ValueError, TypeError,
            AttributeError, OSError, EOFError, RuntimeError, NotImplementedError, zlib.error) as e:
        raise DocumentError(f"{path.name} is damaged or not a Gauguin document ({_damage(e)})") from None
    doc.path = path
    doc.mark_saved()
    return doc, manifest
