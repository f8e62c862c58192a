"""Exact resume: 2 iterations, a restart, 2 more == 4 uninterrupted iterations (deterministic mode)."""
from __future__ import annotations

import torch
from safetensors.torch import load_file

from train.distributed import DistInfo
from train.options import parse_config
from train.trainer import Trainer

from .conftest import tiny_args


def _weights(folder) -> dict[str, torch.Tensor]:
    tensors = load_file(str(folder / "model.safetensors"))
    tensors.update(load_file(str(folder / "training_state.safetensors")))
    return tensors


def _trainer(images, labels, run) -> Trainer:
    # the learning rate decays from iteration 2 on (decay_epoch / total_epochs of the 4 iterations)
    cfg = parse_config(tiny_args(images, labels, run, "--max_iters", "4", "--use_vae", "--deterministic",
                                 "--total_epochs", "2", "--decay_epoch", "1", "--save_model_freq", "100"))
    return Trainer(cfg, DistInfo(), torch.device("cpu"))


def test_two_plus_two_equals_four(pairs, tmp_path):
    images, labels = pairs
    assert _trainer(images, labels, tmp_path / "straight").run() == 0

    first = _trainer(images, labels, tmp_path / "resumed")
    assert first.run(stop_at=2) == 130
    second = _trainer(images, labels, tmp_path / "resumed")  # a new process would do the same
    assert second.resumed_from is not None and second.state.iteration == 2
    assert second.run() == 0

    a, b = _weights(tmp_path / "straight" / "latest"), _weights(tmp_path / "resumed" / "latest")
    assert a.keys() == b.keys()
    assert any(k.startswith("optimizer_G.state.") for k in a) and any(k.startswith("discriminator.") for k in a)
    for k in a:
        if k.startswith("rng."):
            continue
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=lambda m, k=k: f"{k}: {m}")
