"""A model's renders of real photographs' label maps, measured against the photographs themselves.

Each labelled photo is cut into square crops (as many as cover its long side), each crop shrunk to the model's
size; the model renders the crop's label map under the crop's own style (the real-photo style path: atlas and
grade, or the encoder; a random style for a model without either). Per class, over every crop that has enough
of it away from its borders:

- *fine texture*: the RMS of the fine detail (luminance minus its 7x7 mean, grey levels; train.quality's
  texture) of the render against the photo's, and their ratio;
- *colour spread*: the RMS CIELAB distance of the class's pixels from their mean colour, render against photo;

and the vertical streaks of train.quality (fine detail correlated with itself 6 px further down) in the
measured classes of the photos and of the renders. The photos should be ones the model never trained on: render
the tune or report set.

    python -m train.quality --real-photos DIR [--real-labels DIR]
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from spade.colour import srgb_to_lab
from spade.labels import LabelSet, read_mask, resize_labels

from .quality import MIN_PIXELS, detail_rms, interior, region_rows

if TYPE_CHECKING:
    from spade import SpadeRenderer

Crop = tuple[np.ndarray, np.ndarray]  # (photo (S, S, 3) uint8, labels (S, S))


def square_crops(photo: np.ndarray, labels: np.ndarray, size: int) -> list[Crop]:
    """Square crops of side min(H, W), evenly spaced to cover the long side, each shrunk to `size`."""
    h, w = labels.shape
    side = min(h, w)
    count = math.ceil(max(h, w) / side)
    starts = np.linspace(0, max(h, w) - side, count).round().astype(int)
    crops = []
    for s in starts:
        cut = (slice(s, s + side), slice(None)) if h > w else (slice(None), slice(s, s + side))
        image = Image.fromarray(np.ascontiguousarray(photo[cut])).resize((size, size), Image.Resampling.LANCZOS)
        crops.append((np.asarray(image), resize_labels(labels[cut], size, size)))
    return crops


def colour_spread(image: np.ndarray, mask: np.ndarray) -> float:
    """RMS CIELAB distance of the pixels inside `mask` (away from its border) from their mean; NaN below
    MIN_PIXELS."""
    inside = interior(np.asarray(mask, bool))
    if inside.sum() < MIN_PIXELS:
        return float("nan")
    lab = srgb_to_lab(np.asarray(image)[inside])
    return float(np.sqrt(((lab - lab.mean(0)) ** 2).sum(1).mean()))


def labelled_crops(photos: dict[str, np.ndarray], label_dir: Path, label_set: LabelSet,
                   size: int) -> dict[str, list[Crop]]:
    """name -> square crops of each photo with its label map (read from label_dir/NAME.png, resized to it)."""
    out = {}
    for name, photo in photos.items():
        labels = read_mask(label_dir / f"{name}.png", label_set)
        out[name] = square_crops(photo, resize_labels(labels, *photo.shape[:2]), size)
    return out


def _ratio(render: float, real: float) -> float:
    return round(100 * render / real, 1) if real > 0 else float("nan")


def texture_report(renderer: SpadeRenderer, crops: dict[str, list[Crop]], lag: int = 6) -> dict:
    """Per-class fine texture and colour spread of the renders against the photos, and both one's streaks."""
    names = renderer.label_set.names
    per_class: dict[str, dict[str, list[float]]] = {}
    real_rows, render_rows = [], []
    for name, photo_crops in crops.items():
        for k, (photo, labels) in enumerate(photo_crops):
            style = renderer.encode_style(Image.fromarray(photo)) if renderer.has_encoder \
                else renderer.random_style(k)
            render = renderer.render(labels, style)
            for cls in np.unique(labels):
                mask = labels == cls
                real_detail, real_spread = detail_rms(photo, mask), colour_spread(photo, mask)
                if math.isnan(real_detail):
                    continue
                figures = per_class.setdefault(names[int(cls)], {"real_detail": [], "render_detail": [],
                                                                 "real_spread": [], "render_spread": []})
                figures["real_detail"].append(real_detail)
                figures["render_detail"].append(detail_rms(render, mask))
                figures["real_spread"].append(real_spread)
                figures["render_spread"].append(colour_spread(render, mask))
            where = {"sketch": f"{name}/{k}", "style": "own photo"}
            real_rows += region_rows(photo, labels, lag, **where)
            render_rows += region_rows(render, labels, lag, **where)
    classes = {}
    for cls, f in sorted(per_class.items(), key=lambda kv: -len(kv[1]["real_detail"])):
        mean = {key: float(np.mean(values)) for key, values in f.items()}
        classes[cls] = {"crops": len(f["real_detail"]), **{k: round(v, 2) for k, v in mean.items()},
                        "detail_ratio": _ratio(mean["render_detail"], mean["real_detail"]),
                        "spread_ratio": _ratio(mean["render_spread"], mean["real_spread"])}

    def streaks(rows: list[dict]) -> float:
        return round(float(np.mean([r["vertical"] for r in rows])), 3) if rows else float("nan")

    return {"photos": sorted(crops), "crops": sum(len(c) for c in crops.values()), "classes": classes,
            "streaks": {"photos": streaks(real_rows), "renders": streaks(render_rows),
                        "regions": len(real_rows)}}


def format_report(report: dict) -> str:
    lines = [f"{len(report['photos'])} labelled photos, {report['crops']} square crops, each rendered under its "
             f"own style",
             f"{'class':12s} {'crops':>5s}  {'texture photo':>13s} {'render':>7s} {'ratio':>7s}  "
             f"{'colour spread photo':>19s} {'render':>7s} {'ratio':>7s}"]
    for cls, c in report["classes"].items():
        lines.append(f"{cls:12s} {c['crops']:5d}  {c['real_detail']:13.1f} {c['render_detail']:7.1f} "
                     f"{c['detail_ratio']:6.0f}%  {c['real_spread']:19.1f} {c['render_spread']:7.1f} "
                     f"{c['spread_ratio']:6.0f}%")
    s = report["streaks"]
    lines.append(f"vertical streaks, mean over {s['regions']} regions: photos {s['photos']:+.3f}, renders "
                 f"{s['renders']:+.3f}")
    return "\n".join(lines)


def run(photo_dir: str, label_dir: str | None, model: str | None, lag: int, as_json: bool) -> int:
    """`gauguin quality --real-photos DIR`: print the report (or JSON); 2 with one line on bad input."""
    import json
    import sys

    from spade import GauguinError, load_model
    from spade.usage import EXIT_BAD_INPUT

    from .label_photos import LABELS_DIR
    from .photo_styles import read_photos

    labels = Path(label_dir) if label_dir else LABELS_DIR
    for option, folder in (("--real-photos", Path(photo_dir)), ("--real-labels", labels)):
        if not folder.is_dir():
            print(f"error: {option}: no such folder: {folder}", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        photos = {n: p for n, p in read_photos(photo_dir).items() if (labels / f"{n}.png").is_file()}
        if not photos:
            print(f"error: no photo of {photo_dir} has a label map in {labels}", file=sys.stderr)
            return EXIT_BAD_INPUT
        renderer = load_model(model, "cpu")
        crops = labelled_crops(photos, labels, renderer.label_set, renderer.default_size[0])
        report = texture_report(renderer, crops, lag)
    except GauguinError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(report, indent=1) if as_json else format_report(report))
    return 0
