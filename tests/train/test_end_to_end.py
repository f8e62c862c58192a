"""A seconds-long training run on generated pairs: checkpoints, samples, logs, and rendering the result."""
from __future__ import annotations

import csv
import json
import subprocess

import numpy as np
import pytest
from PIL import Image

from spade.checkpoint import load_checkpoint
from train.cli import main

from .conftest import PYTHON, ROOT, tiny_args


def render(model, mask, out, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "main.py", "render", "--model", str(model), "--mask", str(mask), "--out", str(out),
                           "--device", "cpu", *map(str, extra)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("vae", [False, True], ids=["plain", "vae"])
def test_tiny_run_writes_everything_and_renders(pairs, tmp_path, vae):
    images, labels = pairs
    run = tmp_path / "run"
    extra = ["--max_iters", "4", "--save_numbered"] + (["--use_vae"] if vae else [])
    assert main(tiny_args(images, labels, run, *extra)) == 0

    latest = run / "latest"
    for name in ("config.json", "model.safetensors", "training_state.json", "training_state.safetensors"):
        assert (latest / name).is_file(), name
    assert (run / "iter_0000002" / "config.json").is_file() and (run / "iter_0000004").is_dir()
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["iter_0000002.png", "iter_0000004.png"]
    grid = Image.open(run / "samples" / "iter_0000004.png")
    assert grid.size == (3 * 32, 2 * 32)  # sketch | generated | real, one row per sample

    with open(run / "logs" / "losses.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4]
    assert {"G_GAN", "G_feat", "G_L1", "D_fake", "D_real"} <= set(rows[0])
    assert ("KLD" in rows[0]) == vae
    assert all(np.isfinite(float(r["G_GAN"])) for r in rows)

    bundle = load_checkpoint(latest)
    assert bundle.trained_classes == [3, 5, 10, 17, 22]
    assert bundle.generator_config.use_vae == vae and bundle.has_encoder == vae
    record = bundle.training
    assert record["iterations"] == 4 and record["seed"] == 0 and "--max_iters 4" in record["command_line"]
    assert record["hardware"]["device"] == "cpu" and set(record["final_losses"]) >= {"G_GAN", "D_real"}
    assert json.loads((latest / "training_state.json").read_text())["iteration"] == 4

    mask = tmp_path / "mask.png"
    lab = np.full((32, 32 if vae else 64), 3, np.uint8)  # VAE models render exactly their crop size
    lab[16:] = 10
    Image.fromarray(lab).save(mask)
    out = tmp_path / "out.png"
    style = ["--style", next(images.glob("*.jpg"))] if vae else []
    result = render(latest, mask, out, *style)
    assert result.returncode == 0, result.stderr
    assert Image.open(out).size == lab.shape[::-1]


def test_float16_export_keeps_full_precision_training_state(pairs, tmp_path):
    images, labels = pairs
    run = tmp_path / "run"
    assert main(tiny_args(images, labels, run, "--max_iters", "2", "--save_dtype", "float16")) == 0
    from safetensors.torch import load_file
    exported = load_file(str(run / "latest" / "model.safetensors"))
    state = load_file(str(run / "latest" / "training_state.safetensors"))
    assert exported["generator.conv_img.weight"].dtype.is_floating_point
    assert str(exported["generator.conv_img.weight"].dtype) == "torch.float16"
    assert str(state["generator.conv_img.weight"].dtype) == "torch.float32"
    assert json.loads((run / "latest" / "training_state.json").read_text())["full_precision_weights"]
    assert main(tiny_args(images, labels, run, "--max_iters", "3", "--save_dtype", "float16")) == 0  # resumes
    assert json.loads((run / "latest" / "training_state.json").read_text())["iteration"] == 3


def test_input_classes_give_listed_classes_their_own_channels(pairs, tmp_path):
    images, labels = pairs
    run = tmp_path / "run"
    assert main(tiny_args(images, labels, run, "--max_iters", "1", "--input_classes", "3,10,22")) == 0
    bundle = load_checkpoint(run / "latest")
    assert bundle.generator_config.semantic_nc == 4
    mapping = bundle.label_to_channel
    assert (mapping[3], mapping[10], mapping[22]) == (0, 1, 2)
    assert mapping[0] == mapping[5] == mapping[150] == 3  # everything else shares the last channel
    mask = tmp_path / "mask.png"
    lab = np.full((32, 64), 5, np.uint8)
    lab[16:] = 22
    Image.fromarray(lab).save(mask)
    result = render(run / "latest", mask, tmp_path / "out.png")
    assert result.returncode == 0, result.stderr


def test_input_classes_reject_ids_outside_the_label_set(pairs, tmp_path, capsys):
    images, labels = pairs
    assert main(tiny_args(images, labels, tmp_path / "run", "--max_iters", "1", "--input_classes", "3,999")) == 2
    assert "--input_classes" in capsys.readouterr().err
