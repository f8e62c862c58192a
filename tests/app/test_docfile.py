"""The .gauguin document: exact round trip, clear errors for bad files, recovery files."""
import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from gauguin_app.docfile import DocumentError, read_document, write_document
from gauguin_app.document import Document, StyleSettings, StyleSource
from gauguin_app.recovery import RecoveryStore


def sample_doc():
    rng = np.random.default_rng(3)
    doc = Document(rng.integers(0, 151, (48, 80)).astype(np.uint8))
    photo = Image.fromarray(rng.integers(0, 255, (30, 40, 3)).astype(np.uint8))
    doc.style = StyleSettings(StyleSource.from_image(photo, "sunset"), StyleSource("seed", 77), 0.25)
    doc.canvas.brush_size = 40
    doc.canvas.overlay = True
    doc.latents["m|seed:77"] = rng.standard_normal((1, 16)).astype(np.float32)
    doc.model_ref = "/models/tiny"
    return doc


def test_round_trip_is_exact(tmp_path):
    doc = sample_doc()
    write_document(tmp_path / "a.gauguin", doc)
    back, _ = read_document(tmp_path / "a.gauguin")
    assert np.array_equal(back.labels, doc.labels) and back.labels.dtype == np.uint8
    assert back.style == doc.style
    assert back.canvas.brush_size == 40 and back.canvas.overlay
    assert np.array_equal(back.latents["m|seed:77"], doc.latents["m|seed:77"])
    assert back.model_ref == "/models/tiny" and not back.dirty and back.path == tmp_path / "a.gauguin"


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_garbage_files_raise_document_error(tmp_path, content):
    p = tmp_path / "bad.gauguin"
    p.write_bytes(content)
    with pytest.raises(DocumentError):
        read_document(p)


def test_zip_without_manifest_or_with_bad_sketch(tmp_path):
    p = tmp_path / "other.gauguin"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(DocumentError, match="not a Gauguin document"):
        read_document(p)
    write_document(p, sample_doc())
    q = tmp_path / "bad_ids.gauguin"
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(q, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "sketch.png":
                buf = io.BytesIO()
                Image.fromarray(np.full((4, 4), 200, np.uint8)).save(buf, format="PNG")
                data = buf.getvalue()
            dst.writestr(item, data)
    with pytest.raises(DocumentError, match="outside"):
        read_document(q)


def test_a_damaged_style_photo_is_a_one_line_document_error(tmp_path):
    p, q = tmp_path / "good.gauguin", tmp_path / "damaged.gauguin"
    write_document(p, sample_doc())
    with zipfile.ZipFile(p) as src, zipfile.ZipFile(q, "w") as dst:
        for item in src.namelist():
            dst.writestr(item, b"\x89PNG not really" if item == "style_a.png" else src.read(item))
    with pytest.raises(DocumentError, match="style_a.png is not a readable image") as caught:
        read_document(q)
    assert "\n" not in str(caught.value)


def test_a_photo_style_keeps_its_png_and_compares_by_its_pixels():
    photo = Image.fromarray(np.random.default_rng(1).integers(0, 255, (300, 900, 3)).astype(np.uint8))
    source = StyleSource.from_image(photo, "wide")
    assert source.pixels.shape == (171, 512, 3) and not source.pixels.flags.writeable
    again = StyleSource.from_png(source.image_png, "wide")
    assert again == source and again.key == source.key and again.image_png == source.image_png
    assert np.array_equal(np.asarray(again.image()), source.pixels)
    other = StyleSource.from_image(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "wide")
    assert other != source and other.key != source.key


def test_missing_file_and_failed_write_leave_no_partial_file(tmp_path):
    with pytest.raises(DocumentError, match="not found"):
        read_document(tmp_path / "nope.gauguin")
    with pytest.raises(DocumentError):
        write_document(tmp_path / "no_such_dir" / "x.gauguin", sample_doc())
    assert list(tmp_path.iterdir()) == []


def test_recovery_store_finds_files_of_dead_sessions(tmp_path):
    store = RecoveryStore(tmp_path)
    doc = sample_doc()
    doc.path = tmp_path / "work.gauguin"
    store.save(doc)
    assert store.orphans() == []                     # our own live file is not an orphan
    dead = tmp_path / "recovery-999999999.gauguin"
    store.path.rename(dead)
    assert store.orphans() == [dead]
    back = RecoveryStore.load(dead)
    assert np.array_equal(back.doc.labels, doc.labels) and back.doc.dirty
    assert back.doc.path is None and back.original == str(doc.path)  # a hint, never the document's own path
