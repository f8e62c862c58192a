"""The photo-style correction (spade/photo_style.py): its fit, its place in the checkpoint format, and the
`train.quality --style-photos` measure on small generated inputs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from spade import SpadeRenderer
from spade.checkpoint import save_checkpoint
from spade.model import ConvEncoder, EncoderConfig
from spade.photo_style import NUM_FEATURES, PhotoStyleCorrection, setting_features
from tests.conftest import make_encoder, make_generator
from train.photo_styles import lab_pixels, sliced_wasserstein, srgb_to_lab
from train.quality import main


def linear_bank(z_dim: int = 8, count: int = 200, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(NUM_FEATURES, z_dim, generator=g, dtype=torch.float64)
    z = torch.randn(count, z_dim, generator=g, dtype=torch.float64)
    return weight, z, z @ weight.T * 5.0 + 40.0


def test_fit_recovers_a_linear_forward_model():
    weight, z, features = linear_bank()
    c = PhotoStyleCorrection(8).double()
    assert c.fit(z, features, ridge=1e-6, prior=1e-6) > 0.999
    predicted = (z @ c.forward_weight.T + c.forward_bias) * c.feature_scale + c.feature_mean
    assert torch.allclose(predicted, features, atol=1e-4)


def test_correction_moves_a_latent_to_render_the_target_features():
    """With the forward model exact, the corrected latent predicts the image's features; the prior limits it."""
    c = PhotoStyleCorrection(32).double()
    weight, z, features = linear_bank(z_dim=32)
    c.fit(z, features, ridge=1e-6, prior=1e-3)
    image = torch.rand(1, 3, 32, 32, dtype=torch.float64) * 2 - 1
    target = c.standardised_features(image)
    z0 = torch.zeros(1, 32, dtype=torch.float64)
    before = (z0 @ c.forward_weight.T + c.forward_bias - target).norm()
    after = (c(image, z0) @ c.forward_weight.T + c.forward_bias - target).norm()
    assert after < 0.05 * before
    c.fit(z, features, ridge=1e-6, prior=1e3)
    assert (c(image, z0) - z0).norm() < (c.gain.new_tensor(1.0))  # a strong prior keeps the latent near z0


def test_setting_features_read_the_bands_in_cielab():
    image = torch.full((1, 3, 40, 40), -1.0)
    image[:, :, :8] = 1.0                    # a white top band over black
    f = setting_features(image)[0]
    assert f[0] == pytest.approx(100.0, abs=0.1) and f[3] == pytest.approx(0.0, abs=0.1)
    assert f.shape == (NUM_FEATURES,)


def corrected_encoder(seed: int = 1) -> ConvEncoder:
    e = make_encoder(seed=seed, input_size=64)
    out = ConvEncoder(EncoderConfig(ndf=4, input_size=64, photo_correction=True))
    out.load_state_dict(e.state_dict(), strict=False)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(64, out.config.z_dim, generator=g)
    out.photo_correction.fit(z, torch.randn(64, NUM_FEATURES, generator=g) + z[:, :NUM_FEATURES], 1.0, 1.0)
    return out.eval()


def test_a_corrected_encoder_goes_through_the_checkpoint_format(tmp_path):
    encoder = corrected_encoder()
    save_checkpoint(tmp_path / "m", make_generator(use_vae=True), encoder)
    assert json.loads((tmp_path / "m" / "config.json").read_text())["encoder"]["photo_correction"] is True
    renderer = SpadeRenderer.load(tmp_path / "m", "cpu")
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    x = torch.from_numpy(np.asarray(photo, np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
    with torch.no_grad():
        expected, _ = encoder(x)
        plain = ConvEncoder(EncoderConfig(ndf=4, input_size=64))
        plain.load_state_dict(encoder.state_dict(), strict=False)
        uncorrected, _ = plain.eval()(x)
    style = renderer.encode_style(photo)
    assert torch.allclose(style.z, expected, atol=1e-5)
    assert not torch.allclose(style.z, uncorrected, atol=1e-3)  # the correction is applied, not dropped


def test_a_config_without_the_correction_key_loads_as_a_plain_encoder(tiny_vae_model):
    config_path = tiny_vae_model / "config.json"
    config = json.loads(config_path.read_text())
    del config["encoder"]["photo_correction"]
    config_path.write_text(json.dumps(config))
    renderer = SpadeRenderer.load(tiny_vae_model, "cpu")
    assert not renderer.encoder.config.photo_correction
    assert renderer.encode_style(Image.new("RGB", (50, 40), (200, 120, 40))).z.shape == (1, 256)


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
