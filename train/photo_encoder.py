"""Teach a VAE model's style encoder to read real photographs, with its generator frozen.

The paper's ConvEncoder instance-normalises its first features, so it sees a photo's exposure, contrast and
colour cast only faintly, and trained on procedural renders only it keys on their textures: a real photo lands
outside what it knows. This stage gives the encoder the colour statistics of horizontal bands of the photo
(EncoderConfig.colour_bands) and trains it on a loss that needs no paired label map: the style's render must
show the photo's setting, that is its sky colour (the mean CIELAB of the render's sky against the median of the
photo's top fifth) and its ground (the mean CIELAB of the rest against the mean of the photo's lower half; the
ground's colour weighs less for real photos, whose ground is not the layout's).

What the generator renders for a latent comes from a forward model of it fitted to a bank of its own renders
(train/setting_model.py), so a step costs milliseconds instead of a generator pass; a penalty keeps the latents
where the bank has renders. The styles are real photographs (`--photos`, never the validation set; each scored
on a random procedural layout) and procedural scenes scored on their own layout, domain-randomised
(train/photo_augment.py: new light and skies, crops, camera faults) with the targets read from the randomised
photo: pairs of a photo-derived setting and the matching scene that the procedural settings alone do not have.
A distillation term holds the encoder's posterior on plain procedural photos, a style preset among them in every
step, where it was, so presets and documents keep their look (the dice and the blend are the generator's and do
not change). The result is an inference checkpoint in OUT/latest, with the bank and its fit beside it.

    python -m train.photo_encoder --out runs/photo_encoder --photos PHOTO_DIR
"""
from __future__ import annotations

import argparse
import copy
import logging
import shlex
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from spade import ConvEncoder, GauguinError, load_model
from spade.checkpoint import save_checkpoint
from spade.colour import srgb_to_lab
from spade.device import pick_device
from spade.inference import Style
from spade.paths import STYLES_DIR
from spade.usage import EXIT_BAD_INPUT, UsageParser

from .photo_augment import camera_faults, new_sky, relight, square_crop
from .photo_styles import SKY, photo_sky_lab, read_photos
from .procedural.scene import generate_scene
from .setting_model import SettingBank, class_fractions, fit_setting_model, render_bank, setting_stats
from .stage_record import chain_record, hardware

logger = logging.getLogger(__name__)

GROUND_BAND = 0.5   # the photo's ground: its lower half
BANK_FILE = "setting_bank.npz"


def parse_args(argv: list[str], prog: str = "python -m train.photo_encoder") -> argparse.Namespace:
    p = UsageParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="the VAE model whose encoder to train (default: the bundled model)")
    p.add_argument("--out", required=True,
                   help="run folder: the model goes to OUT/latest (what --model OUT loads), the bank beside it")
    p.add_argument("--photos", default=None,
                   help="folder of real training photographs with sky at the top (python -m train.real_photos "
                        "training DIR); without it, procedural scenes only")
    p.add_argument("--real_share", type=float, default=0.35, help="share of real photos among the styles drawn")
    p.add_argument("--bank_size", type=int, default=4000,
                   help="renders of the generator the forward model is fitted to (OUT/setting_bank.npz is reused "
                        "when it exists)")
    p.add_argument("--iters", type=int, default=1500, help="encoder steps in all, split evenly over --rounds")
    p.add_argument("--rounds", type=int, default=3,
                   help="times the encoder's own latents are rendered, added to the bank and the model refitted")
    p.add_argument("--round_renders", type=int, default=400, help="renders added to the bank after each round")
    p.add_argument("--batch_size", type=int, default=16, help="styles per iteration")
    p.add_argument("--distill_batch", type=int, default=4, help="plain procedural photos held per iteration")
    p.add_argument("--distill_weight", type=float, default=20.0)
    p.add_argument("--ground_weight", type=float, default=0.5, help="weight of the ground's lightness")
    p.add_argument("--range_weight", type=float, default=1.0,
                   help="weight of the penalty on latents outside the bank's range")
    p.add_argument("--colour_bands", type=int, default=4)
    p.add_argument("--pool", type=int, default=300, help="procedural scenes generated for photos and layouts")
    p.add_argument("--lr", type=float, default=0.0003, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--print_freq", type=int, default=100)
    args = p.parse_args(argv)
    for name in ("iters", "batch_size", "distill_batch", "colour_bands", "pool", "bank_size", "rounds",
                 "round_renders"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    if not 0.0 <= args.real_share <= 1.0:
        p.error("--real_share must be between 0 and 1")
    return args


def widened_encoder(source: ConvEncoder, colour_bands: int) -> ConvEncoder:
    """The source encoder with a colour-statistics branch whose weights into the posterior start at zero, so
    it begins as exactly the source."""
    encoder = ConvEncoder(replace(source.config, colour_bands=colour_bands))
    state = source.state_dict()
    own = encoder.state_dict()
    for key in ("fc_mu.weight", "fc_var.weight"):
        widened = torch.zeros_like(own[key])
        widened[:, :state[key].shape[1]] = state[key]
        state[key] = widened
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("colour.") for k in missing):
        raise GauguinError(f"{source.config} is not a plain ConvEncoder: its weights do not carry over")
    return encoder


def photo_setting(photo: np.ndarray) -> np.ndarray:
    """(6,) the setting a float (H, W, 3) photo in [0, 1] asks for: the median CIELAB of its top fifth (read as
    train.quality reads a photo's sky) and the mean of its lower half."""
    ground = srgb_to_lab(photo[int(photo.shape[0] * (1 - GROUND_BAND)):] * 255.0)
    return np.concatenate([photo_sky_lab(photo * 255.0), ground.reshape(-1, 3).mean(0)])


@dataclass
class StyleSample:
    """What one style teaches: the encoder's input, the layout it is scored on and the setting it asks for;
    `own_layout` when the layout is the photo's own (a procedural scene), so that its ground colour counts."""

    encoder_input: np.ndarray
    layout: np.ndarray
    setting: np.ndarray
    own_layout: bool


class StyleSampler:
    """Draws domain-randomised style photos (procedural scenes and real photos) and procedural layouts."""

    def __init__(self, scenes: list, photos: list[np.ndarray], real_share: float, size: int, seed: int):
        self.scenes, self.photos, self.real_share, self.size = scenes, photos, real_share, size
        self.rng = np.random.default_rng(seed)

    def sample(self) -> StyleSample:
        rng = self.rng
        if self.photos and rng.random() < self.real_share:
            image = self.photos[int(rng.integers(len(self.photos)))]
            if rng.random() < 0.8:
                image = relight(image, rng)
            image = square_crop(image, self.size, rng)
            layout = self.scenes[int(rng.integers(len(self.scenes)))].labels
            return StyleSample(camera_faults(image, rng), layout, photo_setting(image), False)
        while True:
            scene = self.scenes[int(rng.integers(len(self.scenes)))]
            image, sky = scene.image.astype(np.float32) / 255, scene.labels == SKY
            if rng.random() < 0.5:
                image = new_sky(image, sky, rng)
            if rng.random() < 0.8:
                image = relight(image, rng)
            setting = setting_stats(np.uint8(image * 255 + 0.5), scene.labels)
            if setting is not None:
                break
        small = np.asarray(Image.fromarray(np.uint8(image * 255 + 0.5)).resize((self.size, self.size),
                                                                              Image.Resampling.BICUBIC))
        return StyleSample(camera_faults(small.astype(np.float32) / 255, rng), scene.labels, setting, True)


def to_input(images: list[np.ndarray], device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().to(device) * 2.0 - 1.0


def preset_photos(size: int) -> list[np.ndarray]:
    """The bundled style presets (procedural renders), which distillation holds in place."""
    out = []
    for path in sorted(STYLES_DIR.glob("*.png")):
        with Image.open(path) as img:
            out.append(np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BICUBIC),
                                  np.float32) / 255)
    return out


class LatentRange:
    """The bank's latents as a Gaussian: a latent whose Mahalanobis distance exceeds the bank's typical one is
    where the forward model has not seen renders."""

    def __init__(self, z: np.ndarray):
        zt = torch.from_numpy(z).float()
        self.mean = zt.mean(0)
        cov = torch.cov(zt.T) + 1e-2 * torch.eye(zt.shape[1])
        self.precision = torch.linalg.inv(cov)
        self.typical = float(self.distance(zt).quantile(0.9))

    def distance(self, z: torch.Tensor) -> torch.Tensor:
        d = z - self.mean.to(z.device)
        return ((d @ self.precision.to(z.device)) * d).sum(1).sqrt()

    def penalty(self, z: torch.Tensor) -> torch.Tensor:
        return F.relu(self.distance(z) / self.typical - 1.0).pow(2).mean()


def train(args: argparse.Namespace, photos: list[np.ndarray], log=logger.info
          ) -> tuple[dict, ConvEncoder, object, float, dict]:
    """Fit the encoder on `photos` (float (H, W, 3) in [0, 1]) and procedural scenes; returns (last losses,
    encoder, source renderer, seconds, forward-model R^2)."""
    device = pick_device(args.device)
    source = load_model(args.model, device)
    if not source.has_encoder:
        raise GauguinError(f"{source.name} has no style encoder; this stage trains one")
    teacher = source.encoder.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    torch.manual_seed(args.seed)  # the new colour branch's first weights
    if teacher.config.colour_bands:  # a model this stage made: train on from where it stopped
        if teacher.config.colour_bands != args.colour_bands:
            raise GauguinError(f"{source.name}'s encoder reads {teacher.config.colour_bands} colour bands, not "
                               f"{args.colour_bands}")
        student = copy.deepcopy(teacher)
    else:
        student = widened_encoder(teacher, args.colour_bands)
    student = student.to(device).train()
    for p in student.parameters():
        p.requires_grad_(True)
    size = student.config.input_size
    log(f"{len(photos)} real photos; generating {args.pool} procedural scenes")
    h, w = source.default_size
    scenes = [generate_scene(args.seed * 1_000_003 + i, (h, w)) for i in range(args.pool)]
    start = time.time()
    bank_path = Path(args.out) / BANK_FILE
    if bank_path.is_file():
        bank = SettingBank.load(bank_path)
        log(f"bank: {len(bank.z)} renders from {bank_path}")
    else:
        bank = render_bank(source, scenes, photos, args.bank_size, args.seed, log)
        bank_path.parent.mkdir(parents=True, exist_ok=True)
        bank.save(bank_path)
    plain = [np.asarray(Image.fromarray(s.image).resize((size, size), Image.Resampling.BICUBIC),
                        np.float32) / 255 for s in scenes]
    presets = preset_photos(size) or plain
    sampler = StyleSampler(scenes, photos, args.real_share, size, args.seed)
    channels = source.bundle.generator_config.semantic_nc
    opt = torch.optim.Adam(student.parameters(), lr=args.lr, betas=(0.5, 0.999))
    means: dict[str, float] = {}
    last = means
    per_round = -(-args.iters // args.rounds)
    rendered: dict[str, float] = {}
    for it in range(args.iters):
        if it % per_round == 0:
            if it:
                added, rendered = own_renders(source, student, sampler, args.round_renders, device)
                bank = bank.extended(added)
                log(f"round {it // per_round}: the encoder's own latents rendered: " +
                    ", ".join(f"{k} error {v:.1f}" for k, v in rendered.items()))
            setting_model, r2 = fit_setting_model(bank, seed=args.seed)
            setting_model = setting_model.to(device)
            latent_range = LatentRange(bank.z)
            log(f"forward model R^2 on held-out renders ({len(bank.z)}): "
                + ", ".join(f"{k} {v:.2f}" for k, v in r2.items()))
        held = [presets[it % len(presets)]] + [plain[int(i)] for i in
                                                sampler.rng.integers(len(plain), size=args.distill_batch - 1)]
        x = to_input(held, device)
        mu, logvar = student(x)
        with torch.no_grad():
            mu0, logvar0 = teacher(x)
        samples = [sampler.sample() for _ in range(args.batch_size)]
        z, _ = student(to_input([s.encoder_input for s in samples], device))
        fractions = torch.from_numpy(np.stack([class_fractions(s.layout, source.bundle.label_to_channel, channels)
                                               for s in samples])).float().to(device)
        predicted = setting_model(z, fractions)
        wanted = torch.from_numpy(np.stack([s.setting for s in samples])).float().to(device)
        error = (predicted - wanted).abs()
        ground_colour = torch.tensor([1.0 if s.own_layout else 0.25 for s in samples], device=device)
        terms = {"sky": error[:, :3].mean(), "ground": error[:, 3].mean(),
                 "ground_colour": (error[:, 4:].mean(1) * ground_colour).mean(),
                 "range": latent_range.penalty(z),
                 "distill": F.mse_loss(mu, mu0) + 0.1 * F.mse_loss(logvar, logvar0)}
        loss = (terms["sky"] + args.ground_weight * (terms["ground"] + terms["ground_colour"])
                + args.range_weight * terms["range"] + args.distill_weight * terms["distill"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for k, v in terms.items():
            means[k] = means.get(k, 0.0) + float(v.detach())
        if (it + 1) % args.print_freq == 0 or it + 1 == args.iters:
            n = (it % args.print_freq) + 1
            last = {k: v / n for k, v in means.items()}
            log(f"{it + 1}/{args.iters} " + " ".join(f"{k} {v:.3f}" for k, v in last.items())
                + f" {time.time() - start:.0f}s")
            means = {}
    _, rendered = own_renders(source, student, sampler, args.round_renders, device)
    log("final: the encoder's own latents rendered: " + ", ".join(f"{k} error {v:.1f}" for k, v in rendered.items()))
    return {**last, **{f"rendered_{k}": v for k, v in rendered.items()}}, student.eval(), source, \
        time.time() - start, r2


def own_renders(source, student: ConvEncoder, sampler: StyleSampler, count: int,
                device: torch.device) -> tuple[SettingBank, dict[str, float]]:
    """Render the student's latents of `count` fresh styles with the real generator: new bank entries where
    the forward model matters (where the encoder goes), and the setting errors as rendered."""
    channels = source.bundle.generator_config.semantic_nc
    zs, fractions, stats, errors = [], [], [], []
    student.eval()
    for _ in range(count):
        s = sampler.sample()
        with torch.no_grad():
            z = student(to_input([s.encoder_input], device))[0].float().cpu()
        got = setting_stats(source.render(s.layout, Style(z, "bank")), s.layout)
        if got is None:
            continue
        zs.append(z[0].numpy())
        fractions.append(class_fractions(s.layout, source.bundle.label_to_channel, channels))
        stats.append(got)
        errors.append(np.abs(got - s.setting))
    student.train()
    e = np.mean(errors, axis=0)
    return (SettingBank(np.asarray(zs, np.float32), np.asarray(fractions, np.float32), np.asarray(stats, np.float32)),
            {"sky": round(float(e[:3].mean()), 2), "ground L": round(float(e[3]), 2)})


def main(argv: list[str] | None = None, prog: str = "python -m train.photo_encoder") -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv, prog)
    if args.photos and not Path(args.photos).is_dir():
        print(f"error: --photos {args.photos}: not a folder", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        named = read_photos(args.photos) if args.photos else {}
        photo_names = sorted(named)
        losses, encoder, source, elapsed, r2 = train(args, [a.astype(np.float32) / 255 for a in named.values()],
                                                     log=lambda m: print(m, flush=True))
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"interrupted: nothing written to {args.out}", file=sys.stderr)
        return 130
    record = {"command_line": shlex.join([*prog.split(), *argv]),
              "method": "style encoder through a forward model of the frozen generator", "seed": args.seed,
              "iterations": args.iters, "batch_size": args.batch_size, "distill_batch": args.distill_batch,
              "lr": args.lr, "colour_bands": args.colour_bands, "bank_size": args.bank_size,
              "forward_model_r2": r2,
              "weights": {"distill": args.distill_weight, "ground": args.ground_weight, "range": args.range_weight},
              "real_share": args.real_share, "real_photos": photo_names, "procedural_scenes": args.pool,
              "elapsed_s": round(elapsed, 1), "final_losses": {k: round(v, 4) for k, v in losses.items()},
              "hardware": hardware(source.device), "init_from": args.model or "bundled model"}
    bundle = source.bundle
    folder = Path(args.out) / "latest"
    save_checkpoint(folder, source.generator, encoder, label_set=bundle.label_set,
                    label_to_channel=bundle.label_to_channel,
                    trained_classes=[int(i) for i in np.flatnonzero(source.trained_classes)],
                    training=chain_record(bundle.training, record), dtype=torch.float16, name=bundle.name)
    print(f"saved {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
