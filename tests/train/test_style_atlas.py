"""The style atlas (python -m train.style_atlas, spade/style_atlas.py): what it writes, that a model with one
reads style photos through it, and its errors."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from spade import SpadeRenderer, load_model
from spade.colour import srgb_to_lab
from spade.errors import CheckpointError
from spade.inference import Style
from spade.style_atlas import ATLAS_NAME, LOOK, StyleAtlas, image_look
from train.style_atlas import main

pytestmark = pytest.mark.usefixtures("one_thread")


def test_writes_a_model_that_reads_photos_through_its_atlas(vae_model, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["--model", str(vae_model), "--out", str(out), "--entries", "12", "--layouts", "1"]) == 0
    assert f"({12} latents)" in capsys.readouterr().out and (out / ATLAS_NAME).is_file()
    renderer = load_model(out, "cpu")
    atlas = StyleAtlas.load(out)
    assert renderer.info()["style_atlas"] == 12
    dark, bright = (Image.new("RGB", (64, 48), c) for c in ((20, 20, 40), (240, 235, 230)))
    for photo in (dark, bright):
        z = renderer.encode_style(photo).z[0].numpy()
        nearest = int(np.argmin(atlas.distances(image_look(photo))))
        assert np.allclose(z, atlas.z[nearest].astype(np.float32))
    encoder = renderer.encode_style(bright, atlas=False).z
    assert not any(np.allclose(encoder[0].numpy(), z, atol=1e-3) for z in atlas.z.astype(np.float32))
    # the atlas's looks are the renders' own: the brightest-looking entry renders brighter than the darkest
    ground = atlas.looks[:, 0, 3]
    lo, hi = int(np.argmin(ground)), int(np.argmax(ground))
    labels = np.full(renderer.default_size, 3, np.int64)
    labels[labels.shape[0] // 2:] = 10
    mean = [renderer.render(labels, Style(torch.from_numpy(atlas.z[i:i + 1].astype(np.float32)), "t")).mean()
            for i in (lo, hi)]
    assert ground[hi] > ground[lo] and mean[1] > mean[0]


def test_a_photo_brighter_than_any_render_brightens_the_sky_through_its_tone(vae_model, tmp_path):
    out = tmp_path / "out"
    assert main(["--model", str(vae_model), "--out", str(out), "--entries", "6", "--layouts", "1"]) == 0
    renderer = load_model(out, "cpu")
    style = renderer.encode_style(Image.new("RGB", (64, 48), (250, 250, 252)))
    assert style.tone is not None and style.tone.sky[0] > 10
    labels = np.full(renderer.default_size, 3, np.int64)
    labels[labels.shape[0] // 2:] = 10
    graded, plain = (srgb_to_lab(renderer.render(labels, s)) for s in (style, replace(style, tone=None)))
    sky = np.zeros(labels.shape, bool)
    sky[:20] = True
    assert np.median(graded[sky][:, 0]) > np.median(plain[sky][:, 0]) + 10


def test_an_atlas_that_does_not_fit_the_generator_is_refused(vae_model, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(vae_model, folder)
    StyleAtlas(np.zeros((2, 7), np.float32), np.zeros((2, 1, len(LOOK)), np.float32)).save(folder)
    with pytest.raises(CheckpointError, match="do not fit this generator"):
        SpadeRenderer.load(folder, "cpu")
    (folder / ATLAS_NAME).write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="unreadable style atlas"):
        SpadeRenderer.load(folder, "cpu")


def test_errors_are_one_line(vae_model, tmp_path, capsys):
    assert main(["--model", str(vae_model), "--out", str(vae_model), "--entries", "2"]) == 2
    assert capsys.readouterr().err.strip() == "error: --out must be a new folder, not --model"
    assert main(["--model", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
