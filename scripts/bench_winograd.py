"""Time one 3x3 convolution per trunk shape of the full-size generator (and the bundled one's wide ones):
direct (oneDNN) against Winograd F(2x2, 3x3) and F(4x4, 3x3), with each one's max |error| against a float64
convolution relative to the largest output. Best of --repeat runs, on the threads torch is given."""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch
import torch.nn.functional as F

from spade.fast.winograd import winograd_conv3x3, winograd_weight

# (C_in, C_out, grid side): the full model's 3x3 convolutions from 8x8 to 128x128 at 256x256, then the
# bundled model's (ngf 16) widest ones
SHAPES = [(1024, 1024, 8), (1024, 1024, 16), (1024, 512, 32), (512, 512, 32), (512, 256, 64), (256, 256, 64),
          (256, 128, 128), (256, 256, 8), (256, 256, 16), (256, 128, 32), (128, 128, 32)]


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print("| channels | grid | direct ms | F(2x2) ms | F(4x4) ms | direct error | F(2x2) error | F(4x4) error |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for c_in, c_out, side in SHAPES:
        conv = torch.nn.Conv2d(c_in, c_out, 3, padding=1)
        weight, bias = conv.weight.detach(), conv.bias.detach()
        x = torch.randn(1, c_in, side, side).contiguous(memory_format=torch.channels_last)
        methods: dict[str, Callable[[], torch.Tensor]] = {"direct": lambda: F.conv2d(x, weight, bias, padding=1)}
        for tile in (2, 4):
            u = winograd_weight(weight, tile)
            methods[f"F{tile}"] = lambda u=u: winograd_conv3x3(x, u, bias)
        with torch.inference_mode():
            exact = F.conv2d(x.double(), weight.double(), bias.double(), padding=1)
            scale = exact.abs().max().item()
            times = [best_ms(fn, args.repeat) for fn in methods.values()]
            errors = [(fn() - exact).abs().max().item() / scale for fn in methods.values()]
        print(f"| {c_in} -> {c_out} | {side}x{side} | " + " | ".join(f"{t:.1f}" for t in times) + " | "
              + " | ".join(f"{e:.1e}" for e in errors) + " |", flush=True)


if __name__ == "__main__":
    main()
