"""What a run shows and leaves behind: a console progress line, losses.csv, TensorBoard events (when
TensorBoard is installed) and sample grids (sketch | generated | real).

Named progress.py rather than logging.py so that it never shadows the standard library module.
"""
from __future__ import annotations

import csv
import math
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np
import torch
from PIL import Image

from spade.labels import LabelSet, save_image


def _format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """A one-line bar on stderr, redrawn with \\r at most every `interval` s; full lines when not a tty."""

    def __init__(self, total: int, start: int = 0, stream: TextIO | None = None, interval: float = 0.5):
        self.total, self.start = total, start
        self.stream = stream or sys.stderr
        self.interval = interval
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0: float | None = None  # timing starts after the first iteration (start-up and warm-up excluded)
        self.last_draw = 0.0
        self.rate = 0.0

    def rate_now(self, iteration: int) -> float:
        """Iterations per second since the first iteration of this process."""
        if self.t0 is None:
            self.t0, self.start = time.perf_counter(), iteration
            return 0.0
        done = iteration - self.start
        elapsed = time.perf_counter() - self.t0
        return done / elapsed if elapsed > 0 and done > 0 else 0.0

    def line(self, iteration: int, epoch: int, losses: dict[str, float]) -> str:
        self.rate = self.rate_now(iteration)
        frac = min(1.0, iteration / self.total) if self.total else 0.0
        width = 20
        filled = int(frac * width)
        eta = (self.total - iteration) / self.rate if self.rate > 0 else math.nan
        loss_text = " ".join(f"{k}={v:.3f}" for k, v in losses.items())
        eta_text = _format_duration(eta) if math.isfinite(eta) else "?"
        return (f"[{'#' * filled}{'.' * (width - filled)}] {iteration}/{self.total} ep {epoch} "
                f"{self.rate:.2f} it/s eta {eta_text} {loss_text}")

    def update(self, iteration: int, epoch: int, losses: dict[str, float], force_line: bool = False) -> None:
        now = time.perf_counter()
        if self.t0 is None:
            self.rate_now(iteration)
        if force_line:
            text = self.line(iteration, epoch, losses)
            self.stream.write(("\r\x1b[2K" if self.tty else "") + text + "\n")
            self.stream.flush()
            self.last_draw = now
        elif self.tty and now - self.last_draw >= self.interval:
            self.stream.write("\r\x1b[2K" + self.line(iteration, epoch, losses))
            self.stream.flush()
            self.last_draw = now

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class LossLog:
    """losses.csv (one row per logged iteration) and, when available, TensorBoard scalars."""

    BASE_COLUMNS = ("iteration", "epoch", "elapsed_s", "it_per_s", "lr_G", "lr_D")

    def __init__(self, log_dir: Path, loss_names: list[str], resume_iteration: int = 0, tensorboard: bool = True):
        log_dir.mkdir(parents=True, exist_ok=True)
        self.path = log_dir / "losses.csv"
        self.columns = list(self.BASE_COLUMNS) + list(loss_names)
        self._drop_rows_after(resume_iteration)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.file = open(self.path, "a", newline="", encoding="utf-8")
        self.writer = csv.DictWriter(self.file, fieldnames=self.columns, extrasaction="ignore")
        if new:
            self.writer.writeheader()
            self.file.flush()
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
                self.tb = SummaryWriter(str(log_dir / "tensorboard"), 
                                        purge_step=resume_iteration + 1 if resume_iteration else None)
            except Exception:  # TensorBoard is an optional extra (pip install gauguin[train])
                self.tb = None

    def _drop_rows_after(self, iteration: int) -> None:
        """Rows logged after the checkpoint being resumed from would be logged again: drop them."""
        if not self.path.exists():
            return
        with open(self.path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            return
        if list(rows[0].keys()) != self.columns:
            self.path.rename(self.path.with_name(f"losses-{int(time.time())}.csv"))
            return
        kept = [r for r in rows if int(r["iteration"]) <= iteration]
        if len(kept) != len(rows):
            with open(self.path, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=self.columns)
                w.writeheader()
                w.writerows(kept)

    def log(self, row: dict[str, float]) -> None:
        self.writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        self.file.flush()
        if self.tb is not None:
            step = int(row["iteration"])
            for k, v in row.items():
                if k not in ("iteration", "epoch", "elapsed_s"):
                    self.tb.add_scalar(k if k.startswith("lr") or k == "it_per_s" else f"loss/{k}", v, step)

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) in [-1, 1] -> (B, H, W, 3) uint8."""
    arr = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round()
    return arr.permute(0, 2, 3, 1).numpy().astype(np.uint8)


def sample_grid(labels: torch.Tensor, fake: torch.Tensor, real: torch.Tensor, label_set: LabelSet,
                max_rows: int = 4) -> Image.Image:
    """One row per sample: the colourised sketch, the generated photo, the real photo."""
    n = min(max_rows, labels.shape[0])
    sketches = label_set.colorize(labels[:n].cpu().numpy())
    rows = [np.concatenate([s, f, r], axis=1) for s, f, r in zip(sketches, _to_uint8(fake[:n]), _to_uint8(real[:n]))]
    return Image.fromarray(np.concatenate(rows, axis=0))


def save_sample_grid(path: Path, labels: torch.Tensor, fake: torch.Tensor, real: torch.Tensor,
                     label_set: LabelSet) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(path, sample_grid(labels, fake, real, label_set))
    return path
