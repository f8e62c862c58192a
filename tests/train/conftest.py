"""Shared fixtures: a tiny paired dataset on disk and the options of a seconds-long run."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CLASSES = (3, 5, 10, 17, 22)  # sky, tree, grass, mountain, water


def make_pairs(folder: Path, count: int = 6, size: int = 40, seed: int = 0) -> tuple[Path, Path]:
    """Photos and index-PNG label maps of random rectangles, each class with its own colour."""
    rng = np.random.default_rng(seed)
    images, labels = folder / "images", folder / "labels"
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    palette = {c: rng.integers(0, 256, 3) for c in CLASSES}
    for i in range(count):
        lab = np.full((size, size), CLASSES[0], dtype=np.uint8)
        for _ in range(4):
            y, x = rng.integers(0, size - 8, 2)
            h, w = rng.integers(6, size // 2, 2)
            lab[y:y + h, x:x + w] = rng.choice(CLASSES[1:])
        img = np.stack([palette[int(v)] for v in lab.ravel()]).reshape(size, size, 3)
        img = np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(images / f"scene_{i:03d}.jpg", quality=95)
        Image.fromarray(lab).save(labels / f"scene_{i:03d}.png")
    return images, labels


@pytest.fixture(scope="session")
def pairs(tmp_path_factory) -> tuple[Path, Path]:
    return make_pairs(tmp_path_factory.mktemp("data"))


def tiny_args(images: Path, labels: Path, run: Path, *extra: str) -> list[str]:
    """A model of a few thousand parameters at 32 px: seconds per run on one CPU core."""
    return ["--image_dir", str(images), "--label_dir", str(labels), "--checkpoint_dir", str(run),
            "--img_height", "36", "--img_width", "36", "--crop_size", "32", "--batch_size", "2",
            "--num_generator_filters", "4", "--num_discriminator_filters", "8", "--num_encoder_filters", "4",
            "--spade_hidden", "8", "--z_dim", "8", "--num_discriminator_layers", "2", "--no_vgg_loss",
            "--lambda_l1", "1", "--num_workers", "0", "--device", "cpu", "--print_info_freq", "1",
            "--save_img_freq", "2", "--save_model_freq", "2", *extra]


@pytest.fixture(autouse=True)
def _restore_torch_global_modes():
    """Trainers set process-wide flags (deterministic algorithms); keep them from leaking between tests."""
    import torch
    before = torch.are_deterministic_algorithms_enabled()
    yield
    torch.use_deterministic_algorithms(before)


@pytest.fixture
def vae_model(tmp_path):
    """A tiny VAE model that paints in tanh's working range. With random weights and batch-norm statistics every
    output pixel sits at +-1, where nothing can be learned, so the statistics are measured on procedural scenes."""
    import torch.nn.functional as F

    from spade.checkpoint import ade20k_label_to_channel, save_checkpoint
    from tests.conftest import make_encoder, make_generator
    from train.procedural.scene import generate_scene
    generator = make_generator(use_vae=True)
    lut = torch.tensor(ade20k_label_to_channel())
    segs = torch.cat([F.one_hot(lut[torch.from_numpy(generate_scene(s, (64, 64)).labels.astype("int64"))],
                                generator.config.semantic_nc).permute(2, 0, 1)[None].float() for s in range(4)])
    for m in generator.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # a plain average over the batch below
    with torch.no_grad():
        generator.train()(segs, torch.randn(4, generator.config.z_dim, generator=torch.Generator().manual_seed(0)))
    path = tmp_path / "tiny_vae"
    save_checkpoint(path, generator.eval(), make_encoder(input_size=64), training={"note": "random test weights"})
    return path
