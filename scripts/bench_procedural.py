"""Measure procedural scene generation speed (scenes/second, one process)."""

from __future__ import annotations

import argparse
import time

from train.procedural import generate_scene


def bench(size: int, n: int) -> float:
    generate_scene(0, size)  # builds the noise bank once
    t = time.perf_counter()
    for seed in range(1, n + 1):
        generate_scene(seed, size)
    return n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=60, help="scenes per size")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 128])
    args = ap.parse_args()
    for size in args.sizes:
        print(f"{size}x{size}: {bench(size, args.n):.1f} scenes/s")


if __name__ == "__main__":
    main()
