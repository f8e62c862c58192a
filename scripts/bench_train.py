"""Measure training iterations per second of the real loop (data loading, G step, D step, logging).

    python scripts/bench_train.py                       # small model, 128 px, procedural scenes
    python scripts/bench_train.py --preset paper --iters 3
    python scripts/bench_train.py -- --use_vae          # extra trainer options after --

The rate is the trainer's own (losses.csv's it_per_s): iterations after the first, divided by their time,
so start-up and first-iteration warm-up are excluded. Runs in a temporary folder and prints one summary line.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path


PRESETS = {
    # the paper's generator and discriminator at 256 px
    "paper": ["--crop_size", "256", "--img_height", "256", "--img_width", "256", "--batch_size", "1"],
    # a CPU-sized model
    "small": ["--crop_size", "128", "--img_height", "128", "--img_width", "128", "--batch_size", "2",
              "--num_generator_filters", "16", "--spade_hidden", "32", "--num_discriminator_filters", "32"],
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--iters", type=int, default=10, help="timed iterations (one more is run as warm-up)")
    p.add_argument("--device", default="auto")
    p.add_argument("extra", nargs="*", help="more trainer options (after --)")
    args = p.parse_args()

    import torch

    from train.cli import main as train_main
    from train.trainer import cpu_name

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        argv = ["--dataset", "procedural", "--dataset_size", str(2 * (args.iters + 1) * 4), "--no_vgg_loss",
                "--lambda_l1", "1", "--num_workers", "1", "--device", args.device, "--checkpoint_dir", str(run),
                "--max_iters", str(args.iters + 1), "--print_info_freq", "1", "--save_img_freq", "100000",
                "--save_model_freq", "100000", *PRESETS[args.preset], *args.extra]
        code = train_main(argv)
        if code != 0:
            return code
        with open(run / "logs" / "losses.csv", newline="") as f:
            rows = list(csv.DictReader(f))
    rate = float(rows[-1]["it_per_s"])
    device = (torch.cuda.get_device_name(0) if torch.cuda.is_available() and args.device != "cpu"
              else f"{cpu_name()}, {os.cpu_count()} cores, "
                   f"{torch.get_num_threads()} torch threads")
    print(f"{args.preset} preset {' '.join(args.extra)}: {rate:.3f} it/s ({1 / rate:.2f} s/it) over {args.iters} "
          f"iterations on {device}, torch {torch.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
