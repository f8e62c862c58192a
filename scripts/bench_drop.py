"""Drop benchmark (not a test): how long a dropped style photo takes to reach the screen, on the app's own path.

For each photo (a 1920x1080 JPEG made here, then every .jpg/.png in --photos), with the bundled model on the
example sketch:

- read_ms: what the UI thread does with a dropped photo (decoded at a reduced scale, shrunk, kept as the
  document's PNG: gauguin_app StyleController.set_photo);
- first_frame_ms: the worker's first render with that style (the style read from the document's PNG, the style
  atlas, the frame, the photo's tone with its colour tables built);
- frame_ms: the same render once the style is known (what every later frame costs);
- drop_ms = read_ms + first_frame_ms - frame_ms: what the drop costs beyond one frame (the target: at most
  50 ms on a 2-core CPU).

Best of --repeat runs each, first and later frames interleaved (the grade's colour tables are forgotten
before each first frame).

    python -m scripts.bench_drop [--photos DIR] [--repeat N] [--threads N]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gauguin_app.document import Document, StyleSettings, StyleSource
from gauguin_app.rendering import RenderJob, render_job
from spade import SpadeRenderer, read_mask, resize_labels
from spade.inference import read_style_image
from spade.paths import EXAMPLES_DIR
from spade.tone import clear_tables


def synthetic_photo(folder: Path) -> Path:
    """A 1920x1080 JPEG: a sunset sky over a green field, with sensor-like noise."""
    rng = np.random.default_rng(0)
    sky = np.linspace([90, 140, 220], [200, 170, 120], 540)[:, None, :].repeat(1920, 1)
    ground = np.linspace([60, 110, 40], [30, 60, 20], 540)[:, None, :].repeat(1920, 1)
    photo = np.clip(np.concatenate([sky, ground]) + rng.normal(0, 12, (1080, 1920, 3)), 0, 255).astype(np.uint8)
    path = folder / "synthetic_1920x1080.jpg"
    Image.fromarray(photo).save(path, quality=90)
    return path


def best_ms(run, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return best * 1000.0, out


def measure(renderer: SpadeRenderer, doc: Document, photo: Path, repeat: int) -> dict:
    read_ms, source = best_ms(lambda: StyleSource.from_image(read_style_image(photo), photo.stem), repeat)
    style = replace(doc.style, a=source)

    def job(latents: dict) -> RenderJob:
        return RenderJob(doc.revision, 0, doc.labels.copy(), style, renderer, dict(latents))

    latents = render_job(job({})).latents  # warm-up
    first, frame = [], []
    for _ in range(repeat):  # interleaved, so that both see the same load
        clear_tables()
        first.append(best_ms(lambda: render_job(job({})), 1)[0])   # one run each, the best of them kept below
        frame.append(best_ms(lambda: render_job(job(latents)), 1)[0])
    first_ms, frame_ms = min(first), min(frame)
    with Image.open(photo) as img:
        size = img.size
    return {"photo": photo.name, "pixels": f"{size[0]}x{size[1]}", "read_ms": round(read_ms, 1),
            "first_frame_ms": round(first_ms, 1), "frame_ms": round(frame_ms, 1),
            "drop_ms": round(read_ms + first_ms - frame_ms, 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", help="a folder of .jpg/.png photos to drop as well")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    renderer = SpadeRenderer.load(None, "cpu")
    h, w = renderer.default_size
    doc = Document(resize_labels(read_mask(EXAMPLES_DIR / "lake_mountains.png"), h, w))
    doc.set_style(StyleSettings())
    with tempfile.TemporaryDirectory() as folder:
        photos = [synthetic_photo(Path(folder))]
        if args.photos:
            photos += sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        print(f"{'photo':<34} {'pixels':>10} {'read ms':>8} {'first frame':>12} {'frame':>7} {'drop ms':>8}")
        rows = []
        for photo in photos:
            r = measure(renderer, doc, photo, args.repeat)
            rows.append(r)
            print(f"{r['photo']:<34} {r['pixels']:>10} {r['read_ms']:>8.1f} {r['first_frame_ms']:>12.1f} "
                  f"{r['frame_ms']:>7.1f} {r['drop_ms']:>8.1f}")
    drops = [r["drop_ms"] for r in rows]
    print(f"drop beyond one frame: median {np.median(drops):.1f} ms, max {max(drops):.1f} ms "
          f"({torch.get_num_threads()} threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
