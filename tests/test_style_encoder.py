"""The style encoder's colour statistics (EncoderConfig.colour_bands): why they exist and that such models load."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from spade import load_model
from spade.testing import random_weights_ as randomize_
from spade.checkpoint import save_checkpoint
from spade.model import ConvEncoder, EncoderConfig
from tests.conftest import make_generator


def _photo_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """A textured image in [-1, 1] and the same image with its contrast cut to a quarter, toward mid grey (as
    fog does)."""
    rng = np.random.default_rng(0)
    clear = torch.from_numpy(rng.uniform(-1.0, 1.0, (1, 3, 64, 64)).astype(np.float32))
    return clear, clear * 0.25


def test_the_papers_encoder_cannot_see_fog_and_the_colour_bands_can():
    """Its first InstanceNorm divides out every feature's scale, so a photo and its foggy version look the same."""
    bright, dark = _photo_pair()
    plain = randomize_(ConvEncoder(EncoderConfig(ndf=4, input_size=64)), 1).eval()
    banded = randomize_(ConvEncoder(EncoderConfig(ndf=4, input_size=64, colour_bands=4)), 1).eval()
    with torch.no_grad():
        plain_gap = (plain(bright)[0] - plain(dark)[0]).abs().max()
        banded_gap = (banded(bright)[0] - banded(dark)[0]).abs().max()
    assert plain_gap < 0.05 * banded_gap, (plain_gap, banded_gap)


def test_a_model_with_colour_bands_saves_loads_and_encodes(tmp_path):
    encoder = randomize_(ConvEncoder(EncoderConfig(ndf=4, input_size=64, colour_bands=3, colour_width=16)), 2)
    save_checkpoint(tmp_path / "m", make_generator(use_vae=True), encoder.eval())
    model = load_model(tmp_path / "m", "cpu")
    assert model.encoder.config.colour_bands == 3
    dark = model.encode_style(Image.new("RGB", (80, 60), (20, 20, 40)))
    bright = model.encode_style(Image.new("RGB", (80, 60), (230, 230, 240)))
    assert not torch.allclose(dark.z, bright.z)
