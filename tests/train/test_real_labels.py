"""The repository's labels of real photographs (train/real_labels) and the tool that makes them."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from spade.labels import ade20k
from train.label_photos import LABELS_DIR, main, read_regions
from train.procedural.classes import OUTDOOR_CLASSES


def test_every_label_map_is_a_small_ade20k_index_png_of_its_entry():
    entries = read_regions()
    pngs = sorted(p.stem for p in LABELS_DIR.glob("*.png"))
    assert pngs == sorted(entries) and len(pngs) >= 25
    label_set = ade20k()
    landscape = 0
    for name in pngs:
        path = LABELS_DIR / f"{name}.png"
        with Image.open(path) as img:
            assert img.format == "PNG" and img.mode == "L", name
            assert list(img.size) == entries[name]["size"] and max(img.size) <= 512, name
            ids = set(np.unique(np.asarray(img)).tolist())
        named = {0 if c == "other" else label_set.id_of(c) for c in entries[name]["classes"].values()}
        assert ids <= named <= set(range(len(label_set))), name
        landscape += bool(ids & set(OUTDOOR_CLASSES))
        assert path.stat().st_size < 20_000, name
    assert landscape == len(pngs)


def test_segment_then_apply_writes_the_labels_and_check_finds_them_exact(tmp_path, capsys):
    """A photo of a blue sky over green grass: two regions, labelled sky and grass, regenerate exactly."""
    photos, work, labels = tmp_path / "photos", tmp_path / "work", tmp_path / "labels"
    photos.mkdir()
    labels.mkdir()
    rng = np.random.default_rng(0)
    photo = np.empty((60, 96, 3))
    photo[:25] = (100, 160, 235)
    photo[25:] = (50, 140, 40)
    photo = np.clip(photo + rng.normal(0, 3, photo.shape), 0, 255).astype(np.uint8)
    Image.fromarray(photo).save(photos / "meadow.png")
    assert main(["segment", str(photos), "--work", str(work), "--labels", str(labels), "--regions", "2",
                 "--superpixels", "40"]) == 0
    template = json.loads((work / "meadow.json").read_text())
    assert template["size"] == [96, 60] and set(template["classes"]) == {"1", "2"}
    overlay = Image.open(work / "meadow_regions.png")
    assert overlay.size == (2 * 2 * 96 + 8, 2 * 60)
    template["classes"] = {"1": "sky", "2": "grass"}  # region 1 is the upper one: regions are numbered top down
    (labels / "regions.json").write_text(json.dumps({"meadow": template}))
    assert main(["apply", str(photos), "--work", str(work), "--labels", str(labels)]) == 0
    written = np.asarray(Image.open(labels / "meadow.png"))
    expected = np.where(np.arange(60)[:, None] < 25, 3, 10)
    assert (written == expected).mean() > 0.98
    assert (work / "meadow_check.png").is_file()
    capsys.readouterr()
    assert main(["apply", str(photos), "--work", str(work), "--labels", str(labels), "--check"]) == 0
    assert "exactly" in capsys.readouterr().out
    Image.fromarray(np.full((60, 96), 3, np.uint8)).save(labels / "meadow.png")
    assert main(["apply", str(photos), "--work", str(work), "--labels", str(labels), "--check"]) == 1
    assert "meadow" in capsys.readouterr().err


def test_a_changed_photo_or_an_unknown_class_is_one_line(tmp_path, capsys):
    photos, labels = tmp_path / "photos", tmp_path / "labels"
    photos.mkdir()
    labels.mkdir()
    Image.fromarray(np.full((40, 40, 3), 90, np.uint8)).save(photos / "grey.png")
    entry = {"photo_sha256": "0" * 64, "size": [40, 40],
             "segmentation": {"superpixels": 20, "compactness": 10.0, "regions": 1, "seed": 0},
             "classes": {"1": "sky"}}
    (labels / "regions.json").write_text(json.dumps({"grey": entry}))
    assert main(["apply", str(photos), "--work", str(tmp_path / "w"), "--labels", str(labels)]) == 2
    assert "pixels differ from those it was labelled on" in capsys.readouterr().err
    from train.label_photos import photo_digest
    entry.update(photo_sha256=photo_digest(np.asarray(Image.open(photos / "grey.png"))), classes={"1": "skyy"})
    (labels / "regions.json").write_text(json.dumps({"grey": entry}))
    assert main(["apply", str(photos), "--work", str(tmp_path / "w"), "--labels", str(labels)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: grey: region 1 has class 'skyy', not an ade20k class"
    assert not (labels / "grey.png").exists()
