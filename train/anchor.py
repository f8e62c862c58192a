"""Anchored fine-tuning: teach a trained VAE model one change of the procedural data without a discriminator.

A SPADE generator keeps its texture only while the discriminator it was trained with asks for it; fine-tuned
with a new one, or by L1 to the photos alone, it paints its regions flat within a few hundred iterations (see
docs/training.md). This fine-tune needs neither: its target is the procedural photo only where the data changed
(the pixels of --classes in scenes of --setting, e.g. the sky of overcast scenes) and the frozen model's own
output everywhere else. That output is deterministic, so matching it keeps the texture instead of averaging it
away. The style encoder stays as it is (each scene's style is its photo's posterior mean), batch norm uses its
running statistics, and the result is an inference model (spectral norm folded into the weights).

    python -m train.anchor --model assets/model --out runs/anchored --setting overcast --classes sky
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
import torch
from PIL import Image

from spade import GauguinError, SpadeRenderer, load_model
from spade.checkpoint import save_checkpoint
from spade.device import pick_device

from .procedural import SETTINGS
from .procedural.scene import generate_scene
from .trainer import cpu_name


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m train.anchor", description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="the VAE model to fine-tune (default: the bundled model)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--setting", required=True, choices=SETTINGS, help="the procedural setting whose look changed")
    p.add_argument("--classes", default="sky", help="comma-separated ADE20K class names whose look changed")
    p.add_argument("--share", type=float, default=0.5, help="share of scenes drawn in --setting")
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.0001, help="Adam learning rate, betas (0, 0.9)")
    p.add_argument("--anchor_weight", type=float, default=1.0,
                   help="L1 weight of the anchored pixels (the model's own output) against 1 for the changed ones")
    p.add_argument("--batch_size", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--print_freq", type=int, default=25)
    args = p.parse_args(argv)
    for name in ("iters", "batch_size", "print_freq"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if not 0 < args.share <= 1:
        p.error("--share must lie in (0, 1]")
    if not args.lr > 0:
        p.error("--lr must be positive")
    if not args.anchor_weight > 0:
        p.error("--anchor_weight must be positive")
    return args


def anchored_batch(student: SpadeRenderer, teacher: SpadeRenderer, seeds: list[int], weights: dict[str, float],
                   setting: str, ids: list[int], device: torch.device) -> tuple[torch.Tensor, ...]:
    """(one-hot labels, styles, targets, changed-pixel masks) of one batch of procedural scenes: each target is the
    photo on the pixels of `ids` in scenes of `setting` and the frozen teacher's own render everywhere else."""
    h, w = student.default_size
    segs, zs, targets, masks = [], [], [], []
    for seed in seeds:
        scene = generate_scene(seed, (h, w), weights=weights)
        photo = torch.from_numpy(scene.image.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        seg = student.one_hot(scene.labels)
        z = teacher.encode_style(Image.fromarray(scene.image)).z.clone().to(device)
        with torch.no_grad():
            own = teacher.generator(seg, z).cpu()
        changed = torch.from_numpy(np.isin(scene.labels, ids) & (scene.setting == setting))[None, None].float()
        segs.append(seg)
        zs.append(z)
        targets.append(own * (1.0 - changed) + photo * changed)
        masks.append(changed)
    return torch.cat(segs), torch.cat(zs), torch.cat(targets).to(device), torch.cat(masks).to(device)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    try:
        device = pick_device(args.device)
        student, teacher = load_model(args.model, device), load_model(args.model, device)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not student.has_encoder:
        print(f"error: {student.name} has no style encoder; anchored fine-tuning needs a VAE model", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.classes.split(",") if n.strip()]
    ids, unknown = [], []
    for name in names:
        try:
            ids.append(student.label_set.id_of(name))
        except KeyError:
            unknown.append(name)
    if unknown or not names:
        print(f"error: --classes {args.classes}: not classes of the model ({', '.join(unknown) or 'none given'})",
              file=sys.stderr)
        return 2
    h = student.default_size[0]
    generator = student.generator.train(False)
    for p in (*teacher.generator.parameters(), *teacher.encoder.parameters()):
        p.requires_grad_(False)
    opt = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    others = (1.0 - args.share) / (len(SETTINGS) - 1)
    weights = {s: (args.share if s == args.setting else others) for s in SETTINGS}
    start, loss = time.time(), torch.zeros(())
    try:
        for it in range(args.iters):
            seeds = [args.seed * 1_000_003 + it * args.batch_size + b for b in range(args.batch_size)]
            seg, z, target, changed = anchored_batch(student, teacher, seeds, weights, args.setting, ids, device)
            pixel_weight = changed + args.anchor_weight * (1.0 - changed)
            loss = ((generator(seg, z) - target).abs() * pixel_weight).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if (it + 1) % args.print_freq == 0 or it + 1 == args.iters:
                print(f"{it + 1}/{args.iters} L1 {loss.item():.4f} {time.time() - start:.0f}s", flush=True)
    except KeyboardInterrupt:
        print(f"interrupted: nothing written to {args.out}", file=sys.stderr)
        return 130
    source = student.bundle
    record = {"command_line": shlex.join(["python", "-m", "train.anchor", *argv]), "method": "anchored fine-tune",
              "seed": args.seed, "iterations": args.iters, "batch_size": args.batch_size, "lr": args.lr,
              "anchor_weight": args.anchor_weight, "setting": args.setting, "classes": names, "share": args.share,
              "crop_size": h,
              "elapsed_s": round(time.time() - start, 1), "final_losses": {"L1": round(loss.item(), 5)},
              "hardware": {"device": str(device), "device_name": torch.cuda.get_device_name(device)
                           if device.type == "cuda" else cpu_name(),
                           "torch": torch.__version__},
              "init_from": args.model or "bundled model", "dataset": "procedural"}
    earlier = {k: v for k, v in source.training.items() if k not in ("earlier_stages", "total_elapsed_s")}
    record["earlier_stages"] = [*source.training.get("earlier_stages", []), earlier] if earlier else []
    record["total_elapsed_s"] = round(float(source.training.get("total_elapsed_s", earlier.get("elapsed_s", 0.0)))
                                      + record["elapsed_s"], 1)
    trained = [int(i) for i in np.flatnonzero(student.trained_classes)]
    save_checkpoint(args.out, generator, student.encoder, label_set=source.label_set,
                    label_to_channel=source.label_to_channel, trained_classes=trained,
                    training=record, dtype=torch.float16, name=source.name)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
