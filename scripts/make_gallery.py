"""Render the README gallery from the real model: each example sketch, then its photo under three styles; and
with --photos-out, real photographs as styles: each photo, then example sketches rendered under it.

    .venv/bin/python scripts/make_gallery.py [--model PATH] [--out docs/gallery.png]
    .venv/bin/python scripts/make_gallery.py --photos-out docs/gallery_photos.png

The photos are validation photos from Debian's wallpaper packages (train/real_photos.py, apt-get installs them);
their authors and licences are listed in docs/training.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps


from spade import load_model, read_mask, resize_labels
from spade.paths import EXAMPLES_DIR, STYLES_DIR

STYLES = ("day_lake.png", "sunset_lake.png", "snow_forest.png")
SKETCHES = ("lake_mountains.png", "forest_river.png", "beach.png", "meadow_trees.png")
PHOTOS = ("evening_glow", "darkest_hour", "cold_ripple", "aitzgorri")
PHOTO_SKETCHES = ("lake_mountains.png", "meadow_trees.png", "beach.png")
BACKGROUND, TEXT, HEAD = (24, 26, 30), (230, 230, 230), 22


def sheet_of(rows: list[list[Image.Image]], columns: list[str], tile: int) -> Image.Image:
    sheet = Image.new("RGB", (tile * len(columns), HEAD + tile * len(rows)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for c, title in enumerate(columns):
        draw.text((c * tile + 6, 5), title, fill=TEXT)
    for r, tiles in enumerate(rows):
        for c, tile_image in enumerate(tiles):
            sheet.paste(ImageOps.fit(tile_image, (tile, tile), Image.Resampling.LANCZOS), (c * tile, HEAD + r * tile))
    return sheet


def photo_sheet(renderer, tile: int) -> Image.Image:
    from train import real_photos

    problem = real_photos.install(list(PHOTOS))
    if problem:
        raise SystemExit(f"error: {problem}")
    sketches = [resize_labels(read_mask(EXAMPLES_DIR / n, renderer.label_set), *renderer.default_size)
                for n in PHOTO_SKETCHES]
    rows = []
    for name in PHOTOS:
        photo = real_photos.load(name)
        style = renderer.encode_style(photo)
        rows.append([photo] + [Image.fromarray(renderer.render(labels, style)) for labels in sketches])
    return sheet_of(rows, ["style photo"] + [n.split(".")[0].replace("_", " ") for n in PHOTO_SKETCHES], tile)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None)
    p.add_argument("--out", default="docs/gallery.png")
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--photos-out", default=None, help="also write the sheet of real photographs as styles here")
    args = p.parse_args(argv)
    renderer = load_model(args.model, "cpu")
    styles = [renderer.encode_style(STYLES_DIR / s) for s in STYLES] if renderer.has_encoder else \
        [renderer.random_style(s) for s in (0, 1, 2)]
    columns = ["sketch"] + ([s.split(".")[0].replace("_", " ") + " style" for s in STYLES]
                            if renderer.has_encoder else [f"seed {s}" for s in (0, 1, 2)])
    rows = []
    for name in SKETCHES:
        labels = resize_labels(read_mask(EXAMPLES_DIR / name, renderer.label_set), *renderer.default_size)
        tiles = [renderer.label_set.colorize(labels)] + [renderer.render(labels, s) for s in styles]
        rows.append([Image.fromarray(t) for t in tiles])
    sheet = sheet_of(rows, columns, args.tile)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out}")
    if args.photos_out:
        photo_sheet(renderer, args.tile).save(args.photos_out)
        print(f"wrote {args.photos_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
