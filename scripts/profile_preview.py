"""Where a stroke preview's time and error go, block by block (spade/fast/preview.py).

    python -m scripts.profile_preview [--threads N] [--repeat N] [CONFIG=VALUE ...]

On the benchmark's cases (the bundled model and the full-size ADE20K generator with random weights, the
example sketch at 256x256, a brush stroke over 2% of it), each preview starting from the exact frame of the
unedited sketch: per block of the last of --repeat previews (those before it measure this machine), what it
did (kept, dense, or the pixels it recomputed, at its pixel sets or over their box), its estimate and its
time (`StrokePreview.last`), and its error, the RMS difference of its output from the exact frame's over the
RMS of that output (beside the same for the unedited frame's output, what keeping it costs), then how the
output's squared error splits between the pixels near the stroke (within the reach) and the rest.
CONFIG=VALUE pairs are PreviewConfig fields (keep_upto=256 bfloat16=False).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from spade.bench import Model, full_model, given_model, psnr_db, read_labels
from spade.fast import FastGenerator, PreviewConfig, StrokePreview
from spade.fast.preview import StepMode
from spade.sample_sketches import ROCK, brush_stroke


def _rms(x: torch.Tensor) -> float:
    return x.pow(2).mean().sqrt().item()


def profile(model: Model, labels: np.ndarray, stroke: np.ndarray, config: PreviewConfig, repeat: int) -> None:
    g = model.generator
    lut = torch.as_tensor(np.asarray(model.label_to_channel))
    before, after = (lut[torch.as_tensor(m.astype(np.int64))] for m in (labels, stroke))
    z = torch.randn(1, g.config.z_dim, generator=torch.Generator().manual_seed(0)) if g.config.use_vae else None
    fast = FastGenerator(g)
    exact_blocks: dict[str, torch.Tensor] = {}
    old_blocks: dict[str, torch.Tensor] = {}
    exact = fast(after, z, record=exact_blocks)
    old = fast(before, z, record=old_blocks)
    preview = StrokePreview(fast, config)
    for _ in range(repeat):
        preview.exact(before, z)
        out, _ = preview.preview(after, z)
    last = preview.last
    print(f"## {model.name}: preview {last.ms:.1f} ms ({last.kind.value}; estimated {last.estimated_ms:.1f}, exact "
          f"frame {last.exact_ms:.1f} ms), {psnr_db(out, exact):.2f} dB (the unedited frame: "
          f"{psnr_db(old, exact):.2f} dB); plans over the runs {preview.stats.as_dict()}")
    print("| block | grid x channels | recomputed | estimated ms | time ms | error | error if kept |")
    print("|---|---|---|---:|---:|---:|---:|")
    work = preview._frame.work
    for r in last.steps:
        e, o = (b[r.name].permute(0, 2, 3, 1)[0] for b in (exact_blocks, old_blocks))
        h, w, c = e.shape
        done = (r.mode.value if r.mode in (StepMode.KEPT, StepMode.DENSE) else
                f"{r.pixels} of {h * w} px ({r.mode.value})")
        print(f"| {r.name} | {h}x{w} x {c} | {done} | {r.estimated_ms:.1f} | {r.ms:.1f} | "
              f"{_rms(work[r.name] - e) / _rms(e):.4f} | {_rms(o - e) / _rms(e):.4f} |")
    print(f"| rest (first layer, plan, output layer) | | | | {last.ms - sum(r.ms for r in last.steps):.1f} | | |")
    changed = torch.as_tensor(stroke != labels)[None, None].float()
    r = preview.config.reach
    near = F.max_pool2d(changed, 2 * r + 1, 1, r)[0, 0] > 0
    err = (out - exact).pow(2).sum(1)[0]
    print(f"\nOutput squared error within {r} px of the stroke ({near.float().mean():.1%} of the pixels): "
          f"{err[near].sum() / err.sum():.0%}; elsewhere {err[~near].sum() / err.sum():.0%}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    ap.add_argument("--repeat", type=int, default=4, help="previews run, the last reported (default 4)")
    ap.add_argument("config", nargs="*", help="PreviewConfig fields as NAME=VALUE (Python literals)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    fields = {}
    for item in args.config:
        name, _, value = item.partition("=")
        fields[name] = eval(value, {"__builtins__": {}})
    config = PreviewConfig(**fields)
    labels, _ = read_labels(None, 256)
    stroke = brush_stroke(labels, ROCK, 0.02)
    for model in (full_model(), given_model(None)):
        profile(model, labels, stroke, config, args.repeat)


if __name__ == "__main__":
    main()
