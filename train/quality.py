"""Streaks: how much of a model's texture repeats along one direction.

A SPADE generator has no noise input. Inside a large region of one class its modulation is constant, so any
texture it paints there has to grow out of region borders and its own upsampling grid, and a model that learned
to invent texture that way paints streaks: vertical lines through trees, water and rock. This module measures
them: the correlation between an image's fine detail (the image minus its 7x7 local mean) and the same detail a
few pixels further down (vertical streaks) or to the right (horizontal streaks), inside one region. Procedural
training photos score about 0.01; a model whose trees show visible vertical lines scores 0.2 to 0.4.

Streaks are only half of it: a model can lose them by losing its texture, painting flat, blurred regions. So each
region's row also carries its texture, the RMS of its fine detail in grey levels, to hold next to the procedural
photos' (a model that learned the data paints about as much detail into grass and trees as they have).

It also measures grain in the sky: the RMS of the sky's fine detail (grey levels) under each preset, next to the
same figure for procedural photos of each setting. A sky should be smooth; a model that learned a grainy cloud
texture shows it under every sketch.

    python -m train.quality [--model PATH] [--lag 6] [--json]

`--style-photos DIR` measures instead how a model carries real photographs' settings into its renders (sky
colour, palette retrieval; see train.photo_styles); `--real-photos DIR` its renders of labelled real photos'
label maps against the photos, per class (train.real_texture).
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spade import SpadeRenderer

# Classes that fill large regions of the example sketches.
MEASURED_CLASSES = {5: "tree", 17: "mountain", 129: "lake", 22: "water", 10: "grass", 30: "field", 27: "sea",
                    47: "sand", 61: "river", 13: "earth"}
STYLES = ("day_lake", "sunset_lake", "overcast_river", "snow_forest")
SKY = 3
MIN_PIXELS = 800


def fine_detail(image: np.ndarray, radius: int = 3) -> np.ndarray:
    """Luminance minus its (2 * radius + 1)^2 box mean: the texture, without shading and colour."""
    g = np.asarray(image, np.float64)
    g = g.mean(2) if g.ndim == 3 else g
    n = 2 * radius + 1
    s = np.pad(np.pad(g, radius, mode="edge").cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    return g - (s[n:, n:] - s[:-n, n:] - s[n:, :-n] + s[:-n, :-n]) / (n * n)


def interior(mask: np.ndarray, margin: int = 4) -> np.ndarray:
    """The pixels of `mask` whose whole (2 * margin + 1)^2 neighbourhood lies inside it (borders excluded)."""
    h, w = mask.shape
    padded = np.pad(mask, margin, constant_values=False)
    inside = mask.copy()
    for dy in range(2 * margin + 1):
        for dx in range(2 * margin + 1):
            inside &= padded[dy:dy + h, dx:dx + w]
    return inside


def streak_coherence(image: np.ndarray, mask: np.ndarray, lag: int = 6, axis: int = 0) -> float:
    """Correlation of fine detail with itself `lag` pixels along `axis` (0: down, vertical streaks; 1: right).

    Only pairs of pixels both inside `mask` (away from its border) count; NaN when fewer than MIN_PIXELS do.
    """
    detail, inside = fine_detail(image), interior(np.asarray(mask, bool))
    cut = [slice(None), slice(None)]
    cut[axis] = slice(None, -lag)
    head = tuple(cut)
    cut[axis] = slice(lag, None)
    tail = tuple(cut)
    pairs = inside[head] & inside[tail]
    if pairs.sum() < MIN_PIXELS:
        return float("nan")
    a, b = detail[head][pairs], detail[tail][pairs]
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).mean() / (a.std() * b.std() + 1e-9))


def detail_rms(image: np.ndarray, mask: np.ndarray) -> float:
    """RMS of the fine detail inside `mask`, away from its border, in grey levels; NaN below MIN_PIXELS."""
    inside = interior(np.asarray(mask, bool))
    if inside.sum() < MIN_PIXELS:
        return float("nan")
    return float(np.sqrt(np.mean(fine_detail(image)[inside] ** 2)))


def region_rows(photo: np.ndarray, labels: np.ndarray, lag: int, **where: str) -> list[dict]:
    """One row per measured class with enough interior for both directions: its streaks and its texture."""
    rows = []
    for cls, name in MEASURED_CLASSES.items():
        v, h = (streak_coherence(photo, labels == cls, lag, axis) for axis in (0, 1))
        if not (np.isnan(v) or np.isnan(h)):
            rows.append({**where, "class": name, "vertical": round(v, 3), "horizontal": round(h, 3),
                         "detail": round(detail_rms(photo, labels == cls), 2)})
    return rows


def example_renders(renderer: SpadeRenderer) -> Iterator[tuple[str, str, np.ndarray, np.ndarray]]:
    """(sketch, style, labels, photo) for every example sketch under every preset (random styles without an
    encoder), at the model's size."""
    from spade import read_mask, resize_labels
    from spade.paths import EXAMPLES_DIR, STYLES_DIR

    styles = {name: renderer.encode_style(STYLES_DIR / f"{name}.png") for name in STYLES} \
        if renderer.has_encoder else {f"seed {s}": renderer.random_style(s) for s in range(len(STYLES))}
    h, w = renderer.default_size
    for path in sorted(EXAMPLES_DIR.glob("*.png")):
        labels = resize_labels(read_mask(path, renderer.label_set), h, w)
        for style_name, style in styles.items():
            yield path.stem, style_name, labels, renderer.render(labels, style)


Renders = Iterable[tuple[str, str, np.ndarray, np.ndarray]]


def streak_rows(renders: Renders, lag: int = 6) -> list[dict]:
    """region_rows of every (sketch, style, labels, photo)."""
    return [row for sketch, style, labels, photo in renders
            for row in region_rows(photo, labels, lag, sketch=sketch, style=style)]


def model_streaks(renderer: SpadeRenderer, lag: int = 6) -> list[dict]:
    """Vertical and horizontal streak coherence of a model's renders: every example sketch under the presets."""
    return streak_rows(example_renders(renderer), lag)


def _mean_by(rows: list[tuple[str, float]]) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for key, value in rows:
        if not np.isnan(value):
            groups.setdefault(key, []).append(value)
    return {key: round(float(np.mean(values)), 2) for key, values in groups.items()}


def sky_grain(renders: Renders) -> dict[str, float]:
    """Sky fine-detail RMS of renders, per style, averaged over the sketches."""
    return _mean_by([(style, detail_rms(photo, labels == SKY)) for _, style, labels, photo in renders])


def data_sky_grain(count: int = 6, size: int = 256) -> dict[str, float]:
    """The same figure for procedural photos of each setting (`count` scenes each)."""
    from train.procedural import SETTINGS
    from train.procedural.scene import generate_scene

    rows = []
    for setting in SETTINGS:
        for seed in range(count):
            scene = generate_scene(seed, size, setting)
            rows.append((setting, detail_rms(scene.image, scene.labels == SKY)))
    return _mean_by(rows)


def data_streaks(count: int = 12, size: int = 256, lag: int = 6) -> list[dict]:
    """The same measure on procedural training photos: what a model that learned the data would score."""
    from train.procedural.scene import generate_scene

    rows = []
    for seed in range(count):
        scene = generate_scene(seed, size)
        rows += region_rows(scene.image, scene.labels, lag, sketch=f"procedural seed {seed}", style=scene.setting)
    return rows


def summary(rows: list[dict]) -> dict:
    vertical = np.array([r["vertical"] for r in rows])
    horizontal = np.array([r["horizontal"] for r in rows])
    return {"regions": len(rows), "vertical_mean": round(float(vertical.mean()), 3),
            "vertical_max": round(float(vertical.max()), 3), "horizontal_mean": round(float(horizontal.mean()), 3),
            "horizontal_max": round(float(horizontal.max()), 3),
            "detail": _mean_by([(r["class"], r["detail"]) for r in rows])}


def main(argv: list[str] | None = None, prog: str = "gauguin quality") -> int:
    from spade.usage import EXIT_BAD_INPUT, UsageParser

    p = UsageParser(prog=prog, description="Streak coherence and texture of a model's renders and of the "
                                           "procedural data.")
    p.add_argument("--model", help="model folder or checkpoint (default: the bundled model)")
    p.add_argument("--lag", type=int, default=6, help="distance in pixels between compared detail")
    p.add_argument("--json", action="store_true", help="every region as JSON instead of a summary")
    p.add_argument("--style-photos", metavar="DIR", help="render the example sketches under each photo of DIR "
                   "and compare sky colours and palettes with the photos (instead of the streak measure)")
    p.add_argument("--real-photos", metavar="DIR", help="render the label maps of DIR's labelled photos and "
                   "compare their per-class texture, colour spread and streaks with the photos' (train.real_texture)")
    p.add_argument("--real-labels", metavar="DIR", help="label maps of the --real-photos (default: the "
                   "repository's train/real_labels)")
    args = p.parse_args(argv)
    if args.lag < 1:
        p.error("--lag must be at least 1")
    from spade import GauguinError, load_model

    if args.style_photos is not None:
        return _style_photos(args.style_photos, args.model, args.json)
    if args.real_photos is not None:
        from train.real_texture import run
        return run(args.real_photos, args.real_labels, args.model, args.lag, args.json)

    try:
        renders = list(example_renders(load_model(args.model, "cpu")))  # rendered once for both measures
        model_rows = streak_rows(renders, args.lag)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not model_rows:
        print(f"error: at this model's size no region of the example sketches has the {MIN_PIXELS} interior "
              f"pixels a measure needs; it works on models of 256 px and more", file=sys.stderr)
        return EXIT_BAD_INPUT
    data_rows = data_streaks(lag=args.lag)
    grain = {"model": sky_grain(renders), "procedural data": data_sky_grain()}
    if args.json:
        print(json.dumps({"model": model_rows, "data": data_rows, "sky_grain": grain}, indent=1))
        return 0
    for title, rows in (("model", model_rows), ("procedural data", data_rows)):
        s = summary(rows)
        print(f"{title:16s} {s['regions']:3d} regions  vertical mean {s['vertical_mean']:+.3f} max "
              f"{s['vertical_max']:+.3f}  horizontal mean {s['horizontal_mean']:+.3f} max {s['horizontal_max']:+.3f}")
    worst = sorted(model_rows, key=lambda r: -r["vertical"])[:5]
    print("most streaked: " + ", ".join(f"{r['sketch']}/{r['style']}/{r['class']} {r['vertical']:+.2f}"
                                        for r in worst))
    for title, rows in (("model", model_rows), ("procedural data", data_rows)):
        print(f"texture, {title}: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(summary(rows)["detail"].items())))
    for title, figures in grain.items():
        print(f"sky grain, {title}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()))
    return 0


def _style_photos(folder: str, model: str | None, as_json: bool) -> int:
    from spade import GauguinError, load_model
    from train.photo_styles import example_sketches, format_report, photo_report, read_photos

    if not Path(folder).is_dir():
        print(f"error: --style-photos: no such folder: {folder}", file=sys.stderr)
        return 2
    try:
        renderer = load_model(model, "cpu")
        if not renderer.has_encoder:
            print(f"error: model {renderer.name!r} has no style encoder; it cannot take style photos",
                  file=sys.stderr)
            return 2
        photos = read_photos(folder)
        if len(photos) < 2:
            print(f"error: --style-photos needs at least two photos in {folder}; found {len(photos)}",
                  file=sys.stderr)
            return 2
        report = photo_report(renderer, photos, example_sketches(renderer))
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=1) if as_json else format_report(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
