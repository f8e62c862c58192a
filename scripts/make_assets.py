"""Regenerate assets/styles/*.png (style photos) and assets/examples/*.png (sketches).

Style photos are palette PNGs (256 colours); example sketches are 8-bit
grey PNGs whose values are ADE20K class ids.

Deterministic: the same code always writes the same files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

from train.procedural import generate_scene

# name -> (seed, setting); seeds picked by looking at the layouts
STYLES = {
    "day_lake.png": (11, "day"),
    "day_beach.png": (24, "day"),
    "golden_hour_meadow.png": (12, "golden_hour"),
    "sunset_lake.png": (164, "sunset"),
    "dusk_mountains.png": (99, "dusk"),
    "overcast_river.png": (8, "overcast"),
    "snow_forest.png": (4, "snow"),
}
EXAMPLES = {
    "lake_mountains.png": 11,
    "forest_river.png": 8,
    "beach.png": 24,
    "meadow_trees.png": 12,
    "pine_lake.png": 51,
    "hills_fields.png": 23,
    "waterfall_lake.png": 99,
}


def main() -> None:
    styles, examples = ROOT / "assets" / "styles", ROOT / "assets" / "examples"
    styles.mkdir(parents=True, exist_ok=True)
    examples.mkdir(parents=True, exist_ok=True)
    for name, (seed, setting) in STYLES.items():
        scene = generate_scene(seed, 256, setting)
        # a 256-colour palette keeps each photo under ~50 KB; open with .convert("RGB")
        photo = Image.fromarray(scene.image).quantize(256, method=Image.Quantize.MEDIANCUT)
        photo.save(styles / name, optimize=True)
    for name, seed in EXAMPLES.items():
        labels = generate_scene(seed, 256, "day").labels
        Image.fromarray(np.ascontiguousarray(labels), mode="L").save(examples / name, optimize=True)
    print(f"wrote {len(STYLES)} styles to {styles} and {len(EXAMPLES)} examples to {examples}")


if __name__ == "__main__":
    main()
