"""Every kind of bad file gives one clear line and leaves the work untouched."""
import zipfile

import numpy as np
import pytest
from PIL import Image

from spade import ade20k

from gauguin_app.docfile import DocumentError, read_document, write_document
from gauguin_app.document import Document

from .test_window import drag, pick_class


@pytest.fixture
def good_doc(tmp_path):
    path = tmp_path / "good.gauguin"
    labels = np.full((64, 64), 3, np.uint8)
    labels[40:] = 10
    write_document(path, Document(labels))
    return path


def damaged(good_doc, tmp_path):
    """A truncated copy, and a copy whose compressed sketch has flipped bytes (a bad disk or download)."""
    data = good_doc.read_bytes()
    (tmp_path / "truncated.gauguin").write_bytes(data[:len(data) // 2])
    with zipfile.ZipFile(good_doc) as z:
        info = z.getinfo("sketch.png")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    flipped = bytearray(data)
    for i in range(start + 2, start + min(info.compress_size - 2, 60)):
        flipped[i] ^= 0x5A
    (tmp_path / "flipped.gauguin").write_bytes(bytes(flipped))
    return [tmp_path / "truncated.gauguin", tmp_path / "flipped.gauguin"]


def test_damaged_documents_raise_a_document_error(good_doc, tmp_path):
    for path in damaged(good_doc, tmp_path):
        with pytest.raises(DocumentError) as e:
            read_document(path)
        assert path.name in str(e.value) and "damaged" in str(e.value)


def test_bad_files_in_the_window_keep_the_sketch(make_window, prompts, good_doc, tmp_path):
    w = make_window()
    pick_class(w, ade20k().id_of("tree"))
    drag(w.canvas, [(10, 10), (20, 20)])
    labels, revision = w.doc.labels.copy(), w.doc.revision
    foreign = np.zeros((32, 32, 3), np.uint8)
    foreign[:] = (1, 2, 3)
    Image.fromarray(foreign).save(tmp_path / "foreign.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "foreign.png").read_bytes()[:60])
    paths = damaged(good_doc, tmp_path) + [tmp_path / "foreign.png", tmp_path / "cut.png"]
    for path in paths:
        assert w.files.open_path(path, ask=False) is False
    assert len(prompts.errors) == len(paths) and all("\n" not in e for e in prompts.errors)
    assert "colours outside" in prompts.errors[2] and "#010203" in prompts.errors[2]
    assert np.array_equal(w.doc.labels, labels) and w.doc.revision == revision and w.doc.dirty


def test_style_file_that_is_not_an_image(make_window, prompts, tmp_path):
    w = make_window()
    style = w.doc.style
    bad = tmp_path / "sunset.jpg"
    bad.write_bytes(b"this is not a photo")
    assert w.styles.set_photo(bad) is False
    w.files.open_dropped(bad)
    assert len(prompts.errors) == 2 and all("sunset.jpg" in e and "\n" not in e for e in prompts.errors)
    assert w.doc.style == style
