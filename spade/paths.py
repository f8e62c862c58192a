"""Where the bundled assets live: the `gauguin_assets` package (the repository's assets/ folder, installed with
the wheel or mapped by an editable install), else assets/ beside the packages in a plain checkout."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def assets_dir() -> Path:
    try:
        return Path(str(resources.files("gauguin_assets")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "assets"


ASSETS_DIR = assets_dir()
ADE20K_CLASSES_CSV = ASSETS_DIR / "ade20k_classes.csv"
COCOSTUFF_CLASSES_CSV = ASSETS_DIR / "cocostuff_classes.csv"
CITYSCAPES_CLASSES_CSV = ASSETS_DIR / "cityscapes_classes.csv"
DEFAULT_MODEL_DIR = ASSETS_DIR / "model"
EXAMPLES_DIR = ASSETS_DIR / "examples"
STYLES_DIR = ASSETS_DIR / "styles"
