"""Build a model's style atlas (spade/style_atlas.py): latents and the looks of their renders.

    python -m train.style_atlas --model MODEL --out NEW_MODEL [--photos DIR] [--entries 1500]

The latents are the style encoder's readings of the bundled style presets, of relit procedural scenes (half of
them with a new sky) and of relit, cropped and degraded photos of --photos, prior draws of random scale and
extrapolations between latents already drawn. Each is rendered with the model's own generator on a few fixed
procedural layouts (their looks are kept apart); a latent read from a preset or an unchanged procedural scene
also keeps that picture's look, so that the presets keep their own readings. --out receives a copy of the model
with the atlas beside it. About 1 s an entry on one CPU thread for the bundled model and 8 layouts.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from spade import GauguinError, SpadeRenderer
from spade.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from spade.inference import Style
from spade.style_atlas import StyleAtlas, picture_look
from spade.usage import EXIT_BAD_INPUT, UsageParser

from .latent_mixture import LatentMixture
from .photo_encoder import preset_photos
from .photo_styles import read_photos
from .procedural import generate_scene

logger = logging.getLogger(__name__)
LAYOUT_SEED = 7_000
ATLAS_MIXTURE = LatentMixture(scenes=0.35, photos=0.55, priors=0.75, new_sky=0.6, prior_scale=(0.3, 1.5),
                              extrapolation=(-0.8, 1.8), crop=256, faults=True)


def parse_args(argv: list[str], prog: str = "python -m train.style_atlas") -> argparse.Namespace:
    p = UsageParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="the model folder whose generator and encoder the atlas reads")
    p.add_argument("--out", required=True, help="the new model folder (a copy of --model with the atlas)")
    p.add_argument("--photos", help="a folder of real photos to draw latents from (never your validation photos)")
    p.add_argument("--entries", type=int, default=1500, help="how many latents (default 1500)")
    p.add_argument("--layouts", type=int, default=8, help="procedural layouts each latent is rendered on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    if args.entries < 1 or args.layouts < 1:
        p.error("--entries and --layouts must be at least 1")
    return args


def draw_latents(renderer: SpadeRenderer, photos: list[np.ndarray], count: int,
                 seed: int) -> list[tuple[torch.Tensor, np.ndarray | None]]:
    """`count` latents, the presets' readings first, then the mixture the module docstring describes; each with
    the picture it was read from where that is a picture of the model's own world (a preset or an unchanged
    procedural scene, which the encoder reads faithfully), else None."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    z_dim = renderer.bundle.generator_config.z_dim
    h, w = renderer.default_size
    scenes = [generate_scene(seed * 1_000_003 + i, (h, w)) for i in range(64)]

    def read(image: np.ndarray) -> torch.Tensor:
        return renderer.encode_style(Image.fromarray(np.uint8(image * 255 + 0.5)), atlas=False).z[0].float()

    drawn: list[tuple[torch.Tensor, np.ndarray | None]] = [(read(p), p) for p in preset_photos(256)][:count]
    while len(drawn) < count:
        drawn.append(ATLAS_MIXTURE.draw(rng, gen, read, scenes, photos, [z for z, _ in drawn], z_dim))
    return drawn


def build_atlas(renderer: SpadeRenderer, photos: list[np.ndarray], entries: int, layouts: int, seed: int,
                log=logger.info) -> StyleAtlas:
    """Draw the latents and render each on `layouts` procedural layouts, keeping each render's look; a latent
    read from a picture of the model's own world also keeps that picture's look (the others repeat their
    first render's, which changes no distance)."""
    h, w = renderer.default_size
    maps = [generate_scene(LAYOUT_SEED + i, (h, w)).labels for i in range(layouts)]
    drawn = draw_latents(renderer, photos, entries, seed)
    looks, start = [], time.time()
    for i, (z, source) in enumerate(drawn):
        style = Style(z[None], "atlas")
        renders = [picture_look(renderer.render(m, style)) for m in maps]
        looks.append(renders + [picture_look(source * 255) if source is not None else renders[0]])
        if (i + 1) % 100 == 0 or i + 1 == len(drawn):
            spent = time.time() - start
            log(f"atlas: {i + 1}/{len(drawn)} latents rendered, {spent:.0f} s, "
                f"about {spent / (i + 1) * (len(drawn) - i - 1):.0f} s left")
    return StyleAtlas(torch.stack([z for z, _ in drawn]).numpy(), np.asarray(looks, np.float32))


def main(argv: list[str] | None = None, prog: str = "python -m train.style_atlas") -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        renderer = SpadeRenderer.load(args.model, args.device)
        if renderer.encoder is None:
            raise GauguinError(f"{renderer.name} has no style encoder; an atlas starts from its readings")
        if Path(args.out).resolve() == Path(args.model).resolve():
            raise GauguinError("--out must be a new folder, not --model")
        photos = [p.astype(np.float32) / 255 for p in read_photos(args.photos).values()] if args.photos else []
        atlas = build_atlas(renderer, photos, args.entries, args.layouts, args.seed, logger.info)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            shutil.copy2(Path(args.model) / name, out / name)
        print(f"wrote {atlas.save(out)} ({len(atlas)} latents)")
    except (GauguinError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
