"""Official NVlabs checkpoints: naming, import, and the same picture as the reference semantics."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spade import CheckpointError, SpadeRenderer
from spade.checkpoint import fold_spectral_norm
from spade.model import (ConvEncoder, DiscriminatorConfig, EncoderConfig, GeneratorConfig, MultiscaleDiscriminator,
                         SPADEGenerator)
from tests.conftest import landscape, make_encoder, make_generator, official_state
from tests.reference_spade import encoder_forward, generator_forward

DATA = Path(__file__).parent / "data"
TOL = 1e-3  # max abs difference on the [-1, 1] output, float32


def shapes(module: torch.nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def test_full_size_modules_match_the_official_tensor_manifests():
    plain = json.loads((DATA / "ade20k_generator_discriminator.json").read_text())
    vae = json.loads((DATA / "ade20k_vae_generator_encoder.json").read_text())
    with torch.device("meta"):
        assert shapes(SPADEGenerator(GeneratorConfig())) == plain["generator"]
        assert shapes(MultiscaleDiscriminator(DiscriminatorConfig())) == plain["discriminator"]
        assert shapes(SPADEGenerator(GeneratorConfig(use_vae=True))) == vae["generator"]
        assert shapes(ConvEncoder(EncoderConfig())) == vae["encoder"]


def reference_onehot(labels: np.ndarray) -> torch.Tensor:
    """The documented ADE20K input: value v -> channel v-1, 0 -> channel 150, one-hot over 151."""
    shifted = labels.astype(np.int64) - 1
    shifted[shifted < 0] = 150
    return F.one_hot(torch.from_numpy(shifted), 151).permute(2, 0, 1)[None].float()


@pytest.mark.parametrize("layout", ["current", "legacy"])
@pytest.mark.parametrize("upsampling,norm", [("normal", "batch"), ("most", "batch"), ("more", "instance")])
def test_imported_generator_gives_the_reference_picture(tmp_path, layout, upsampling, norm):
    size = 64 if upsampling == "normal" else 128
    g = make_generator(seed=7, num_upsampling_layers=upsampling, param_free_norm=norm, crop_size=size)
    state = official_state(g, layout)
    torch.save(state, tmp_path / "latest_net_G.pth")
    if upsampling != "normal":
        (tmp_path / "opt.txt").write_text(
            "----------------- Options ---------------\n"
            f"             num_upsampling_layers: {upsampling}          \t[default: normal]\n"
            f"                         crop_size: {size}                \t[default: 256]\n")
    labels = landscape(size, size)
    renderer = SpadeRenderer.load(tmp_path / "latest_net_G.pth", "cpu")
    ours = renderer.render_tensor(labels)
    expected = generator_forward(state, reference_onehot(labels), None, ngf=4, upsampling=upsampling,
                                 crop_size=size)
    assert ours.shape == expected.shape == (1, 3, size, size)
    assert (ours - expected).abs().max().item() < TOL
    assert expected.std() > 0.01  # a real picture, not a constant


@pytest.mark.parametrize("layout", ["current", "legacy"])
def test_imported_vae_model_encodes_styles_like_the_reference(tmp_path, layout):
    g = make_generator(seed=11, use_vae=True)
    e = make_encoder(seed=12)
    g_state, e_state = official_state(g, layout), official_state(e, layout)
    torch.save(g_state, tmp_path / "latest_net_G.pth")
    torch.save(e_state, tmp_path / "latest_net_E.pth")
    renderer = SpadeRenderer.load(tmp_path, "cpu")
    assert renderer.has_encoder and renderer.uses_style and renderer.default_size == (64, 64)

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (80, 120, 3), dtype=np.uint8)
    from PIL import Image
    style = renderer.encode_style(Image.fromarray(photo).resize((256, 256), Image.Resampling.BICUBIC))
    x = torch.from_numpy(np.asarray(Image.fromarray(photo).resize((256, 256), Image.Resampling.BICUBIC),
                                    dtype=np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    mu, _ = encoder_forward(e_state, x)
    assert (style.z - mu).abs().max().item() < TOL

    labels = landscape()
    ours = renderer.render_tensor(labels, style)
    expected = generator_forward(g_state, reference_onehot(labels), mu, ngf=4, crop_size=64)
    assert (ours - expected).abs().max().item() < TOL
    other = renderer.render_tensor(labels, renderer.random_style(5))
    assert (other - ours).abs().max().item() > 1e-3  # the style matters


def test_spectral_norm_folding_matches_torch_in_eval_mode():
    conv = torch.nn.utils.spectral_norm(torch.nn.Conv2d(6, 5, 3, padding=1))
    conv.train()
    x = torch.randn(2, 6, 9, 9)
    for _ in range(3):
        conv(x)  # power iterations move u and v away from their initial values
    conv.eval()
    with torch.no_grad():
        expected = conv(x)
    folded = fold_spectral_norm(conv.state_dict())
    assert set(folded) == {"weight", "bias"}
    assert torch.allclose(F.conv2d(x, folded["weight"], folded["bias"], padding=1), expected, atol=1e-5)


def test_our_checkpoint_renders_the_training_modules_picture(tiny_vae_model):
    from spade.checkpoint import load_checkpoint
    bundle = load_checkpoint(tiny_vae_model)
    g = SPADEGenerator(bundle.generator_config)
    g.load_state_dict(bundle.generator_state)
    g.eval()
    renderer = SpadeRenderer.load(tiny_vae_model, "cpu")
    style = renderer.random_style(3)
    labels = landscape()
    with torch.no_grad():
        expected = g(reference_onehot(labels), style.z)
    assert (renderer.render_tensor(labels, style) - expected).abs().max().item() < TOL


def test_shape_mismatch_names_the_tensor_and_both_shapes(tmp_path):
    state = official_state(make_generator())
    state["head_0.norm_0.mlp_gamma.bias"] = torch.zeros(7)
    torch.save(state, tmp_path / "latest_net_G.pth")
    with pytest.raises(CheckpointError, match=r"head_0\.norm_0\.mlp_gamma\.bias.*\[7\].*\[64\]"):
        SpadeRenderer.load(tmp_path, "cpu")


class Evil:
    """Any class: unpickling it would import and run project code."""


def test_checkpoint_needing_code_is_refused(tmp_path):
    torch.save({"fc.weight": torch.zeros(1), "obj": Evil()}, tmp_path / "latest_net_G.pth")
    with pytest.raises(CheckpointError, match="not plain tensors"):
        SpadeRenderer.load(tmp_path, "cpu")


def test_checkpoint_folders_get_ordinary_permissions(tiny_model):
    import os
    import stat
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(tiny_model).st_mode) == 0o777 & ~mask
    assert stat.S_IMODE(os.stat(tiny_model / "model.safetensors").st_mode) == 0o666 & ~mask
