"""The real-photo style measure (`train.quality --style-photos`, train/photo_styles.py) on small generated
inputs: CIELAB, the palette distance, and the command's report and refusals."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from train.photo_styles import lab_pixels, sliced_wasserstein, srgb_to_lab
from train.quality import main


def test_cielab_of_known_colours():
    lab = srgb_to_lab(np.array([[255, 255, 255], [0, 0, 0], [255, 0, 0]]))
    assert lab[0] == pytest.approx([100, 0, 0], abs=0.1) and lab[1] == pytest.approx([0, 0, 0], abs=0.1)
    assert lab[2] == pytest.approx([53.2, 80.1, 67.2], abs=0.3)


def test_sliced_wasserstein_tells_palettes_apart():
    rng = np.random.default_rng(0)
    warm = rng.normal([200, 120, 60], 15, (64, 64, 3)).clip(0, 255)
    cool = rng.normal([60, 110, 200], 15, (64, 64, 3)).clip(0, 255)
    a, b, c = lab_pixels([warm], seed=1), lab_pixels([warm], seed=2), lab_pixels([cool], seed=3)
    assert sliced_wasserstein(a, b) < 2.0 < 20.0 < sliced_wasserstein(a, c)


def write_photos(folder, colours):
    folder.mkdir()
    for i, (top, bottom) in enumerate(colours):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:20], img[20:] = top, bottom
        Image.fromarray(img).save(folder / f"photo_{i}.png")


def test_style_photos_cli_reports_every_photo(tiny_vae_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("train.photo_styles.PALETTE_PIXELS", 256)
    write_photos(tmp_path / "photos", [((250, 140, 60), (40, 90, 30)), ((120, 160, 230), (60, 160, 50)),
                                       ((150, 150, 150), (90, 90, 90))])
    assert main(["--model", str(tiny_vae_model), "--style-photos", str(tmp_path / "photos"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["photo"] for r in report["photos"]] == ["photo_0", "photo_1", "photo_2"]
    assert report["total"] == 3 and 0 <= report["retrieved"] <= 3
    first = report["photos"][0]
    assert first["photo_sky"] == pytest.approx(srgb_to_lab(np.array([250, 140, 60])).round(1), abs=0.2)
    assert first["sky_difference"] >= 0 and first["nearest_photo"] in {"photo_0", "photo_1", "photo_2"}
    assert main(["--model", str(tiny_vae_model), "--style-photos", str(tmp_path / "photos")]) == 0
    assert "palette retrieval" in capsys.readouterr().out


def test_style_photos_cli_refuses_bad_input_with_one_line(tiny_vae_model, tiny_model, tmp_path, capsys):
    assert main(["--model", str(tiny_vae_model), "--style-photos", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    write_photos(tmp_path / "one", [((10, 10, 10), (20, 20, 20))])
    assert main(["--model", str(tiny_vae_model), "--style-photos", str(tmp_path / "one")]) == 2
    assert "at least two photos" in capsys.readouterr().err
    assert main(["--model", str(tiny_model), "--style-photos", str(tmp_path / "one")]) == 2
    assert "no style encoder" in capsys.readouterr().err
