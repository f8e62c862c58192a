"""SIGTERM (what schedulers and torchrun send; Ctrl+C takes the same path) saves a checkpoint, then exits."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from .conftest import PYTHON, ROOT, tiny_args


@pytest.mark.parametrize("workers, whole_group", [(0, False), (1, True)], ids=["main-process", "process-group"])
def test_sigterm_saves_then_exits(pairs, tmp_path, workers, whole_group):
    """With data-loading workers the signal goes to the whole process group, as a terminal's Ctrl+C or
    `kill -TERM -PGID` does: the workers must not die of it before the main process has saved."""
    run = tmp_path / "run"
    args = tiny_args(*pairs, run, "--max_iters", "100000", "--save_model_freq", "100000", "--save_img_freq",
                     "100000", "--num_workers", str(workers))
    proc = subprocess.Popen([PYTHON, "-m", "train", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        csv_file = run / "logs" / "losses.csv"
        deadline = time.time() + 120
        while time.time() < deadline and (not csv_file.exists() or len(csv_file.read_text().splitlines()) < 2):
            time.sleep(0.2)
        if whole_group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    state = json.loads((run / "latest" / "training_state.json").read_text())
    assert state["iteration"] >= 1
    assert "checkpoint saved at iteration" in out and "run the same command again to resume" in out
