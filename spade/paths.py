"""Where the bundled assets live (next to the packages in a source checkout or an editable install)."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
ADE20K_CLASSES_CSV = ASSETS_DIR / "ade20k_classes.csv"
COCOSTUFF_CLASSES_CSV = ASSETS_DIR / "cocostuff_classes.csv"
CITYSCAPES_CLASSES_CSV = ASSETS_DIR / "cityscapes_classes.csv"
DEFAULT_MODEL_DIR = ASSETS_DIR / "model"
EXAMPLES_DIR = ASSETS_DIR / "examples"
STYLES_DIR = ASSETS_DIR / "styles"
