"""Renders of real photos' label maps against the photos (train.real_texture) and `gauguin quality --real-photos`."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from spade.labels import ade20k
from train.quality import main
from train.real_texture import labelled_crops, square_crops, texture_report

SKY, GRASS = 3, 10


def write_photo(folder, name="meadow", size=(64, 128), seed=0):
    """A photo (H, W) = size: a smooth sky over grass with strong fine texture, and its label map at half size."""
    rng = np.random.default_rng(seed)
    h, w = size
    photo = np.empty((h, w, 3))
    photo[: h // 2] = (110, 170, 230)
    photo[h // 2:] = (60, 140, 50) + rng.normal(0, 25, (h - h // 2, w, 1))
    (folder / "photos").mkdir(parents=True, exist_ok=True)
    (folder / "labels").mkdir(exist_ok=True)
    Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8)).save(folder / "photos" / f"{name}.png")
    labels = np.full((h // 2, w // 2), SKY, np.uint8)
    labels[h // 4:] = GRASS
    Image.fromarray(labels).save(folder / "labels" / f"{name}.png")
    return folder / "photos", folder / "labels"


class EchoRenderer:
    """Stands in for a model whose render of a crop's labels under the crop's style is the crop itself, or a
    flat grey: the measure must then find 100% and 0% of the photo's texture."""

    label_set = ade20k()
    has_encoder = True
    default_size = (64, 64)

    def __init__(self, flat: bool = False):
        self.flat = flat

    def encode_style(self, image):
        return np.asarray(image)

    def render(self, labels, style):
        return np.full_like(style, 128) if self.flat else style


def test_square_crops_cover_the_long_side():
    photo = np.arange(64 * 150 * 3).reshape(64, 150, 3) % 251
    crops = square_crops(photo.astype(np.uint8), np.zeros((64, 150), np.uint8), 32)
    assert len(crops) == 3 and all(p.shape == (32, 32, 3) and lab.shape == (32, 32) for p, lab in crops)


def test_a_render_equal_to_the_photo_has_all_its_texture(tmp_path):
    photos, labels = write_photo(tmp_path)
    crops = labelled_crops({"meadow": np.asarray(Image.open(photos / "meadow.png"))}, labels, ade20k(), 64)
    same = texture_report(EchoRenderer(), crops)
    assert set(same["classes"]) == {"sky", "grass"} and same["crops"] == 2
    grass = same["classes"]["grass"]
    assert grass["crops"] == 2 and grass["real_detail"] > 10 > same["classes"]["sky"]["real_detail"]
    assert grass["detail_ratio"] == 100 and grass["spread_ratio"] == 100
    assert same["streaks"]["photos"] == same["streaks"]["renders"]
    flat = texture_report(EchoRenderer(flat=True), crops)["classes"]["grass"]
    assert flat["detail_ratio"] == 0 and flat["spread_ratio"] == 0 and flat["real_detail"] == grass["real_detail"]


def test_quality_real_photos_renders_the_labelled_photos(tmp_path, vae_model, capsys):
    photos, labels = write_photo(tmp_path)
    write_photo(tmp_path, "unlabelled", seed=1)
    (labels / "unlabelled.png").unlink()
    assert main(["--model", str(vae_model), "--real-photos", str(photos), "--real-labels", str(labels),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["photos"] == ["meadow"] and report["crops"] == 2
    grass = report["classes"]["grass"]
    assert grass["crops"] == 2 and grass["detail_ratio"] == round(100 * grass["render_detail"] /
                                                                     grass["real_detail"], 1)
    assert main(["--model", str(vae_model), "--real-photos", str(photos), "--real-labels", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "1 labelled photos, 2 square crops" in out and "grass" in out and "vertical streaks" in out


def test_bad_real_photo_folders_are_one_line(tmp_path, capsys):
    photos, labels = write_photo(tmp_path)
    for argv, expected in ((["--real-photos", str(tmp_path / "nowhere")], "--real-photos: no such folder"),
                           (["--real-photos", str(photos), "--real-labels", str(tmp_path)],
                            "has a label map in")):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and expected in err, err
