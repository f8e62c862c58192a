"""How well a model carries real photographs' settings into its renders.

Every example sketch is rendered under each photo of a folder (the photo encoded as a style). Per photo it
reports the render's sky colour (median CIELAB of the sky class) beside the photo's sky colour (median CIELAB
of the photo's top band: robust to a tree or a roof poking into it), and their CIE76 difference. Overall it
reports palette retrieval: for each photo, the CIELAB pixels of all its renders are compared by sliced
Wasserstein distance with the CIELAB pixels of every photo of the folder; retrieval counts the photos whose
renders are nearest to their own photo.

    python -m train.quality --style-photos DIR [--model PATH] [--json]
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from spade.colour import srgb_to_lab
from spade.style_atlas import top_band_lab

if TYPE_CHECKING:
    from spade import SpadeRenderer

SKY = 3
PALETTE_PIXELS = 4096   # pixels drawn from each image for the palette distance
PROJECTIONS = 64        # directions of the sliced Wasserstein distance
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def photo_sky_lab(photo: np.ndarray) -> np.ndarray:
    """Median CIELAB of the top band of an (H, W, 3) photo (the sky as a style atlas reads it)."""
    return top_band_lab(photo)


def render_sky_lab(render: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """Median CIELAB of the render's sky pixels; None when the sketch has no sky."""
    sky = labels == SKY
    return np.median(srgb_to_lab(render[sky]), axis=0) if sky.any() else None


def lab_pixels(images: Iterable[np.ndarray], count: int = PALETTE_PIXELS, seed: int = 0) -> np.ndarray:
    """`count` CIELAB pixels drawn (seeded) from the pixels of all `images` together."""
    pixels = np.concatenate([np.asarray(im).reshape(-1, 3) for im in images])
    idx = np.random.default_rng(seed).choice(len(pixels), size=count, replace=len(pixels) < count)
    return srgb_to_lab(pixels[idx])


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, projections: int = PROJECTIONS, seed: int = 0) -> float:
    """Sliced 1-Wasserstein distance between two (N, 3) point sets of equal size, in their units."""
    d = np.random.default_rng(seed).normal(size=(projections, a.shape[1]))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    pa, pb = np.sort(a @ d.T, axis=0), np.sort(b @ d.T, axis=0)
    return float(np.abs(pa - pb).mean())


def read_photos(folder: str | Path) -> dict[str, np.ndarray]:
    """name -> (H, W, 3) uint8 of every image file in `folder`, sorted by name."""
    from spade.inference import read_style_image

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    return {p.stem: np.asarray(read_style_image(p)) for p in paths}


def photo_report(renderer: SpadeRenderer, photos: dict[str, np.ndarray],
                 sketches: list[tuple[str, np.ndarray]]) -> dict:
    """Render every sketch under every photo; per photo the sky colours, overall the palette retrieval."""
    names = list(photos)
    photo_palettes = [lab_pixels([photos[n]]) for n in names]
    rows, renders_of = [], {}
    for name in names:
        style = renderer.encode_style(Image.fromarray(photos[name]))
        renders = [(renderer.render(labels, style), labels) for _, labels in sketches]
        renders_of[name] = renders
        skies = [s for s in (render_sky_lab(r, lab) for r, lab in renders) if s is not None]
        photo_sky = photo_sky_lab(photos[name])
        render_sky = np.mean(skies, axis=0) if skies else np.full(3, np.nan)
        rows.append({"photo": name, "photo_sky": [round(float(v), 1) for v in photo_sky],
                     "render_sky": [round(float(v), 1) for v in render_sky],
                     "sky_difference": round(float(np.linalg.norm(render_sky - photo_sky)), 1)})
    for row, name in zip(rows, names):
        palette = lab_pixels([r for r, _ in renders_of[name]], seed=1)
        distances = [sliced_wasserstein(palette, p) for p in photo_palettes]
        row["nearest_photo"] = names[int(np.argmin(distances))]
        row["palette_distance"] = round(distances[names.index(name)], 2)
    differences = [r["sky_difference"] for r in rows if not np.isnan(r["sky_difference"])]
    return {"photos": rows, "retrieved": sum(r["nearest_photo"] == r["photo"] for r in rows), "total": len(rows),
            "mean_sky_difference": round(float(np.mean(differences)), 1) if differences else float("nan")}


def example_sketches(renderer: SpadeRenderer) -> list[tuple[str, np.ndarray]]:
    """(name, labels) of the example sketches at the model's size."""
    from spade import read_mask, resize_labels
    from spade.paths import EXAMPLES_DIR

    h, w = renderer.default_size
    return [(p.stem, resize_labels(read_mask(p, renderer.label_set), h, w))
            for p in sorted(EXAMPLES_DIR.glob("*.png"))]


def format_report(report: dict) -> str:
    lines = [f"{'photo':34s} {'photo sky L a b':>20s} {'render sky L a b':>20s} {'dE':>6s}  nearest palette"]
    for r in report["photos"]:
        ps, rs = (" ".join(f"{v:6.1f}" for v in r[k]) for k in ("photo_sky", "render_sky"))
        mark = "ok" if r["nearest_photo"] == r["photo"] else r["nearest_photo"]
        lines.append(f"{r['photo'][:34]:34s} {ps:>20s} {rs:>20s} {r['sky_difference']:6.1f}  {mark}")
    lines.append(f"palette retrieval {report['retrieved']}/{report['total']}, "
                 f"mean sky difference {report['mean_sky_difference']:.1f} CIELAB units")
    return "\n".join(lines)
