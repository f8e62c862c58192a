"""torchrun with two gloo processes on the CPU: the same step as one process with the whole batch."""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from train.cli import main

from .conftest import ROOT, tiny_args

TORCHRUN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "torchrun"


@pytest.mark.skipif(not (TORCHRUN.exists() or shutil.which("torchrun")), reason="torchrun not installed")
def test_two_gloo_processes_match_one_process(pairs, tmp_path):
    images, labels = pairs
    # instance norm: per-sample statistics, so 2 processes x 1 sample equal 1 process x 2 samples
    # (it needs a 2x2 first layer: 64 px crops)
    args = ["--max_iters", "2", "--norm_G", "instance", "--use_vae", "--save_model_freq", "100",
            "--img_height", "64", "--img_width", "64", "--crop_size", "64"]
    torchrun = str(TORCHRUN) if TORCHRUN.exists() else shutil.which("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    result = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "--tee", "3", "-m", "train",
                             *tiny_args(images, labels, tmp_path / "ddp", *args)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "ddp" / "latest" / "config.json").is_file()
    assert result.stdout.count("done:") == 1  # only rank 0 reports

    assert main(tiny_args(images, labels, tmp_path / "single", *args)) == 0
    # the losses of both iterations (the second after one update of every network) agree
    def losses(run):
        with open(run / "logs" / "losses.csv", newline="") as f:
            return [{k: float(v) for k, v in row.items() if k[0] in "GDK"} for row in csv.DictReader(f)]
    for row_ddp, row_one in zip(losses(tmp_path / "ddp"), losses(tmp_path / "single"), strict=True):
        for k in row_one:
            assert row_ddp[k] == pytest.approx(row_one[k], rel=1e-3, abs=1e-4), k
    # and so do the weights, but for float-summation noise: Adam turns a near-zero gradient (e.g. of a bias
    # followed by instance norm, which is zero in exact arithmetic) into a step of +-lr either way
    ddp = load_file(str(tmp_path / "ddp" / "latest" / "model.safetensors"))
    one = load_file(str(tmp_path / "single" / "latest" / "model.safetensors"))
    close = total = 0
    for k in one:
        close += int(torch.isclose(ddp[k], one[k], rtol=1e-4, atol=1e-5).sum())
        total += one[k].numel()
    assert close / total > 0.99
    import json
    record = json.loads((tmp_path / "ddp" / "latest" / "config.json").read_text())["training"]
    assert record["hardware"]["world_size"] == 2
