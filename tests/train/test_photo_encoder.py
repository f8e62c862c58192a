"""Training the style encoder with the generator frozen (python -m train.photo_encoder): what it writes, that the
styles follow a photo's light, and its errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from spade import load_model
from train.photo_encoder import main

pytestmark = pytest.mark.usefixtures("one_thread")


def _generator(folder) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if k.startswith("generator.")}


def photos(folder, shades=((40, 60, 110), (250, 190, 120), (200, 210, 220))):
    """Plain two-tone 'photos' (a sky colour over a darker ground)."""
    folder.mkdir()
    for i, sky in enumerate(shades):
        img = np.zeros((48, 64, 3), np.uint8)
        img[:20], img[20:] = sky, np.asarray(sky) // 2
        Image.fromarray(img).save(folder / f"photo_{i}.png")
    return folder


def run(source, out, *extra: str) -> int:
    return main(["--model", str(source), "--out", str(out), "--iters", "2", "--batch_size", "2",
                 "--distill_batch", "1", "--pool", "3", "--bank_size", "40", "--rounds", "1", "--round_renders", "10",
                 "--device", "cpu", "--print_freq", "1", *extra])


def test_writes_a_model_whose_encoder_reads_colour(vae_model, tmp_path, capsys):
    assert run(vae_model, tmp_path / "out", "--photos", str(photos(tmp_path / "photos"))) == 0
    out = capsys.readouterr().out
    assert "2/2 sky" in out and "forward model R^2" in out and "saved" in out
    model = load_model(tmp_path / "out", "cpu")  # the run folder stands for its latest/
    assert model.encoder.config.colour_bands == 4
    assert (tmp_path / "out" / "setting_bank.npz").is_file()
    record = model.bundle.training
    assert record["method"] == "style encoder through a forward model of the frozen generator"
    assert record["iterations"] == 2 and set(record["forward_model_r2"]) >= {"sky L", "ground L"}
    assert record["real_photos"] == ["photo_0", "photo_1", "photo_2"]
    assert record["earlier_stages"] == [{"note": "random test weights"}]
    source = load_model(vae_model, "cpu")
    written = _generator(tmp_path / "out" / "latest")
    for key, value in source.generator.state_dict().items():  # the generator is not trained
        assert torch.equal(written[f"generator.{key}"].float(), value.to(torch.float16).float()), key


def test_the_trained_styles_follow_the_photos_light(vae_model, tmp_path):
    """A dark and a bright photo: the paper's encoder cannot tell them apart by exposure (untrained, it renders the
    dark photo's sky 5 levels brighter), the trained one renders the dark photo's sky darker (by 19 to 44 levels
    over seeds 0-2 of this run on one CPU; the bar leaves room for another CPU's rounding)."""
    from tests.conftest import landscape
    dark_bright = photos(tmp_path / "photos", shades=((30, 30, 60), (235, 235, 245)))
    assert run(vae_model, tmp_path / "out", "--photos", str(dark_bright), "--real_share", "1", "--iters", "120",
               "--bank_size", "200", "--lr", "0.003", "--distill_weight", "0") == 0
    model = load_model(tmp_path / "out", "cpu")
    labels = landscape()
    sky = labels == 3
    lightness = [model.render(labels, model.encode_style(Image.open(p)))[sky].mean()
                 for p in sorted(dark_bright.glob("*.png"))]
    assert lightness[0] + 10 < lightness[1], lightness


def test_bad_input_is_one_line(vae_model, tiny_model, tmp_path, capsys):
    assert run(vae_model, tmp_path / "out", "--photos", str(tmp_path / "nowhere")) == 2
    assert run(tiny_model, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --photos {tmp_path / 'nowhere'}: not a folder",
                   "error: tiny has no style encoder; this stage trains one"]
    with pytest.raises(SystemExit) as e:
        run(vae_model, tmp_path / "out", "--iters", "0")
    assert e.value.code == 2
    assert not (tmp_path / "out").exists()
