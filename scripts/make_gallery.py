"""Render the README gallery from the real model: each example sketch, then its photo under three styles.

    .venv/bin/python scripts/make_gallery.py [--model PATH] [--out docs/gallery.png]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw


from spade import load_model, read_mask, resize_labels
from spade.paths import EXAMPLES_DIR, STYLES_DIR

STYLES = ("day_lake.png", "sunset_lake.png", "snow_forest.png")
SKETCHES = ("lake_mountains.png", "forest_river.png", "beach.png", "meadow_trees.png")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None)
    p.add_argument("--out", default="docs/gallery.png")
    p.add_argument("--tile", type=int, default=256)
    args = p.parse_args(argv)
    renderer = load_model(args.model, "cpu")
    styles = [renderer.encode_style(STYLES_DIR / s) for s in STYLES] if renderer.has_encoder else \
        [renderer.random_style(s) for s in (0, 1, 2)]
    t, head = args.tile, 22
    columns = ["sketch"] + ([s.split(".")[0].replace("_", " ") + " style" for s in STYLES]
                            if renderer.has_encoder else [f"seed {s}" for s in (0, 1, 2)])
    sheet = Image.new("RGB", (t * len(columns), head + t * len(SKETCHES)), (24, 26, 30))
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((c * t + 6, 5), title, fill=(230, 230, 230))
    for r, name in enumerate(SKETCHES):
        labels = read_mask(EXAMPLES_DIR / name, renderer.label_set)
        labels = resize_labels(labels, *renderer.default_size)
        tiles = [renderer.label_set.colorize(labels)] + [renderer.render(labels, s) for s in styles]
        for c, tile in enumerate(tiles):
            sheet.paste(Image.fromarray(tile).resize((t, t), Image.Resampling.LANCZOS), (c * t, head + r * t))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
