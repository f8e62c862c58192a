"""Anchored fine-tuning: teach a trained VAE model one change of the procedural data without a discriminator.

A SPADE generator keeps its texture only while the discriminator it was trained with asks for it; fine-tuned
with a new one, or by L1 to the photos alone, it paints its regions flat within a few hundred iterations (see
docs/training.md). This fine-tune needs neither: its target is the procedural photo only where the data changed
(the pixels of --classes in scenes of --setting, e.g. the sky of overcast scenes) and the frozen model's own
output everywhere else. That output is deterministic, so matching it keeps the texture instead of averaging it
away. With --target destreaked the change is the model's own: on the pixels of --classes the target is its render
with the vertical streaks taken out (remove_vertical_streaks), so the texture it paints there stays but stops
running down in lines. The style encoder stays as it is (each scene's style is its photo's posterior mean), batch norm uses its
running statistics, and the result is an inference model (spectral norm folded into the weights).

    gauguin anchor --model assets/model --out runs/anchored --setting overcast --classes sky
    gauguin anchor --model assets/model --out runs/destreaked --target destreaked --setting all \
        --classes mountain,tree,rock
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from spade import GauguinError, SpadeRenderer, load_model
from spade.checkpoint import save_checkpoint
from spade.device import pick_device
from spade.usage import EXIT_BAD_INPUT, UsageParser

from .procedural import SETTINGS
from .procedural.scene import generate_scene
from .stage_record import chain_record, hardware


def parse_args(argv: list[str], prog: str = "gauguin anchor") -> argparse.Namespace:
    p = UsageParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="the VAE model to fine-tune (default: the bundled model)")
    p.add_argument("--out", required=True, help="checkpoint folder to write")
    p.add_argument("--setting", required=True, choices=(*SETTINGS, "all"),
                   help="the procedural setting whose look changed, or all (scenes drawn as in training)")
    p.add_argument("--classes", default="sky", help="comma-separated ADE20K class names whose look changed")
    p.add_argument("--target", default="photo", choices=("photo", "destreaked"),
                   help="what the changed pixels learn: the procedural photo, or the model's own render without "
                        "its vertical streaks")
    p.add_argument("--streak_length", type=int, default=21,
                   help="--target destreaked: the vertical run (pixels) over which detail counts as a streak")
    p.add_argument("--share", type=float, default=None,
                   help="share of scenes drawn in --setting (default 0.5; not with --setting all)")
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--lr", type=float, default=0.0001, help="Adam learning rate, betas (0, 0.9)")
    p.add_argument("--anchor_weight", type=float, default=1.0,
                   help="L1 weight of the anchored pixels (the model's own output) against 1 for the changed ones")
    p.add_argument("--batch_size", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--print_freq", type=int, default=25)
    args = p.parse_args(argv)
    for name in ("iters", "batch_size", "print_freq", "streak_length"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if args.share is not None and args.setting == "all":
        p.error("--share picks how often --setting is drawn; with --setting all, scenes are drawn as in training")
    if args.share is None:
        args.share = 0.5 if args.setting != "all" else None
    elif not 0 < args.share <= 1:
        p.error("--share must lie in (0, 1]")
    if not args.lr > 0:
        p.error("--lr must be positive")
    if not args.anchor_weight > 0:
        p.error("--anchor_weight must be positive")
    return args


def remove_vertical_streaks(image: torch.Tensor, regions: list[torch.Tensor], length: int = 21,
                            radius: int = 3) -> torch.Tensor:
    """`image` (1, C, H, W) with its vertical streaks taken out of each region (boolean (H, W) masks).

    The fine detail (the image minus its (2 * radius + 1)^2 box mean, as train.quality measures it) is averaged
    down each column over `length` pixels of the same region. Texture that varies from pixel to pixel averages out;
    detail that runs down in a line is what is left, and that is subtracted. Colour, shading and the rest of the
    texture stay."""
    n = 2 * radius + 1
    detail = image - F.avg_pool2d(F.pad(image, (radius,) * 4, mode="replicate"), n, stride=1)
    column = torch.ones(1, 1, length, 1, dtype=image.dtype, device=image.device)
    half = (0, 0, length // 2, length - 1 - length // 2)
    out = image.clone()
    for region in regions:
        m = region.to(image.device, image.dtype)[None, None]
        if not m.any():
            continue
        total = F.conv2d(F.pad((detail * m).flatten(0, 1)[:, None], half), column).view_as(image)
        count = F.conv2d(F.pad(m, half), column)
        out = out - total / count.clamp(min=1.0) * m
    return out


def anchored_batch(student: SpadeRenderer, teacher: SpadeRenderer, seeds: list[int],
                   weights: dict[str, float] | None, setting: str, ids: list[int], device: torch.device,
                   target: str = "photo", streak_length: int = 21) -> tuple[torch.Tensor, ...]:
    """(one-hot labels, styles, targets, changed-pixel masks) of one batch of procedural scenes: each target is the
    photo (or, for target "destreaked", the teacher's render without its vertical streaks) on the pixels of `ids`
    in scenes of `setting` (any scene for "all") and the frozen teacher's own render everywhere else."""
    h, w = student.default_size
    segs, zs, targets, masks = [], [], [], []
    for seed in seeds:
        scene = generate_scene(seed, (h, w), weights=weights)
        seg = student.one_hot(scene.labels)
        z = teacher.encode_style(Image.fromarray(scene.image), atlas=False).z.clone().to(device)
        with torch.no_grad():
            own = teacher.generator(seg, z).cpu()
        changed = torch.from_numpy(np.isin(scene.labels, ids) & (setting in ("all", scene.setting)))[None, None]
        changed = changed.float()
        if target == "destreaked":
            new = remove_vertical_streaks(own, [torch.from_numpy(scene.labels == i) for i in ids], streak_length)
        else:
            new = torch.from_numpy(scene.image.astype(np.float32) / 127.5 - 1.0).permute(2, 0, 1)[None]
        segs.append(seg)
        zs.append(z)
        targets.append(own * (1.0 - changed) + new * changed)
        masks.append(changed)
    return torch.cat(segs), torch.cat(zs), torch.cat(targets).to(device), torch.cat(masks).to(device)


def main(argv: list[str] | None = None, prog: str = "gauguin anchor") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv, prog)
    try:
        device = pick_device(args.device)
        student, teacher = load_model(args.model, device), load_model(args.model, device)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not student.has_encoder:
        print(f"error: {student.name} has no style encoder; anchored fine-tuning needs a VAE model", file=sys.stderr)
        return EXIT_BAD_INPUT
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
        return EXIT_BAD_INPUT
    h = student.default_size[0]
    generator = student.generator.train(False)
    for p in (*teacher.generator.parameters(), *teacher.encoder.parameters()):
        p.requires_grad_(False)
    opt = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.0, 0.9))
    weights = None
    if args.setting != "all":
        others = (1.0 - args.share) / (len(SETTINGS) - 1)
        weights = {s: (args.share if s == args.setting else others) for s in SETTINGS}
    start, loss = time.time(), torch.zeros(())
    try:
        for it in range(args.iters):
            seeds = [args.seed * 1_000_003 + it * args.batch_size + b for b in range(args.batch_size)]
            seg, z, target, changed = anchored_batch(student, teacher, seeds, weights, args.setting, ids, device,
                                                     args.target, args.streak_length)
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
    record = {"command_line": shlex.join([*prog.split(), *argv]), "method": "anchored fine-tune",
              "seed": args.seed, "iterations": args.iters, "batch_size": args.batch_size, "lr": args.lr,
              "anchor_weight": args.anchor_weight, "target": args.target,
              **({"streak_length": args.streak_length} if args.target == "destreaked" else {}),
              "setting": args.setting, "classes": names, "share": args.share,
              "crop_size": h,
              "elapsed_s": round(time.time() - start, 1), "final_losses": {"L1": round(loss.item(), 5)},
              "hardware": hardware(device), "init_from": args.model or "bundled model", "dataset": "procedural"}
    record = chain_record(source.training, record)
    trained = [int(i) for i in np.flatnonzero(student.trained_classes)]
    save_checkpoint(args.out, generator, student.encoder, label_set=source.label_set,
                    label_to_channel=source.label_to_channel, trained_classes=trained,
                    training=record, dtype=torch.float16, name=source.name)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
