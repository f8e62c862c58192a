"""Tiny seeded models and official-layout checkpoints built on the fly (nothing is downloaded)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spade.testing import random_weights_ as randomize_
from spade.checkpoint import save_checkpoint
from spade.model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator


def official_state(module: torch.nn.Module, layout: str = "current") -> dict[str, torch.Tensor]:
    """The module's state dict as the reference saves it; 'legacy' = old PyTorch (weight, no weight_v)."""
    state = {k: v.clone() for k, v in module.state_dict().items()}
    if layout == "legacy":
        for key in [k for k in state if k.endswith(".weight_v")]:
            prefix = key[: -len("_v")]
            w, u, v = state[prefix + "_orig"], state[prefix + "_u"], state.pop(key)
            state[prefix] = w / torch.dot(u, torch.mv(w.reshape(w.shape[0], -1), v))
    return state


def make_generator(seed: int = 0, **overrides) -> SPADEGenerator:
    cfg = dict(ngf=4, spade_hidden=8, crop_size=64)
    cfg.update(overrides)
    return randomize_(SPADEGenerator(GeneratorConfig(**cfg)), seed).eval()


def make_encoder(seed: int = 1, ndf: int = 4, input_size: int = 256) -> ConvEncoder:
    return randomize_(ConvEncoder(EncoderConfig(ndf=ndf, input_size=input_size)), seed).eval()


def landscape(h: int = 64, w: int = 64) -> np.ndarray:
    """A small painted-looking ADE20K label map: sky, mountain, water, grass, a tree and a 1-px rock."""
    lab = np.full((h, w), 3, np.uint8)          # sky
    yy, xx = np.mgrid[0:h, 0:w]
    lab[yy > h * 0.35 + 6 * np.sin(xx / 7)] = 17  # mountain
    lab[yy > h * 0.55] = 22                       # water
    lab[yy > h * 0.75] = 10                       # grass
    lab[(yy - h * 0.7) ** 2 + (xx - w * 0.2) ** 2 < (h * 0.1) ** 2] = 5  # tree
    lab[h - 3, w - 5] = 35                        # single-pixel rock
    lab[0, 0] = 0                                 # unlabeled corner
    return lab


@pytest.fixture
def tiny_vae_model(tmp_path: Path) -> Path:
    """Our checkpoint format: a VAE generator + encoder, 64x64."""
    path = tmp_path / "tiny_vae"
    save_checkpoint(path, make_generator(use_vae=True), make_encoder(input_size=64),
                    trained_classes=[0, 3, 5, 10, 17, 22], training={"note": "random test weights"})
    return path


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """Our checkpoint format: a deterministic (no VAE) generator."""
    path = tmp_path / "tiny"
    save_checkpoint(path, make_generator(seed=3))
    return path


@pytest.fixture
def mask_png(tmp_path: Path) -> Path:
    from spade.labels import write_index_png
    path = tmp_path / "mask.png"
    write_index_png(path, landscape())
    return path


@pytest.fixture
def one_thread():
    """Tiny models gain nothing from threads, and a busy shared machine makes OpenMP threads spin."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
