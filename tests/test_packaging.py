"""The wheel carries every package and the assets the product reads at run time."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_python_package_of_the_product_is_listed():
    listed = set(setuptools_config()["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts)
             for top in ("gauguin", "gauguin_app", "spade", "train") for p in (ROOT / top).rglob("__init__.py")}
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_every_asset_file_matches_a_package_data_pattern():
    config = setuptools_config()
    assets = ROOT / config["package-dir"]["gauguin_assets"]
    patterns = config["package-data"]["gauguin_assets"]
    files = [p.relative_to(assets) for p in assets.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert files
    shipped = {p.relative_to(assets) for pattern in patterns for p in assets.glob(pattern)}
    missing = [str(f) for f in files if f not in shipped]
    assert not missing, f"not in the wheel: {missing}"


def test_the_real_photo_labels_are_in_the_wheel():
    """train/real_labels is the default --real_labels of `gauguin train` and `gauguin quality`."""
    patterns = setuptools_config()["package-data"]["train"]
    files = {p for p in (ROOT / "train" / "real_labels").iterdir() if p.is_file()}
    shipped = {p for pattern in patterns for p in (ROOT / "train").glob(pattern)}
    assert len(files) > 25 and files == shipped
