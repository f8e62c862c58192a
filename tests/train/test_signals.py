"""SIGTERM (what schedulers and torchrun send; Ctrl+C takes the same path) saves a checkpoint, then exits."""
from __future__ import annotations

import json
import signal
import subprocess
import time

from .conftest import PYTHON, ROOT, tiny_args


def test_sigterm_saves_then_exits(pairs, tmp_path):
    run = tmp_path / "run"
    args = tiny_args(*pairs, run, "--max_iters", "100000", "--save_model_freq", "100000", "--save_img_freq",
                     "100000")
    proc = subprocess.Popen([PYTHON, "-m", "train", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        csv_file = run / "logs" / "losses.csv"
        deadline = time.time() + 120
        while time.time() < deadline and (not csv_file.exists() or len(csv_file.read_text().splitlines()) < 2):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err[-2000:]
    state = json.loads((run / "latest" / "training_state.json").read_text())
    assert state["iteration"] >= 1
    assert "checkpoint saved at iteration" in out and "run the same command again to resume" in out
