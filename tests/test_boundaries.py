"""The import rules that keep the layers apart: the library and the trainer never load Qt or the app, and the
app never loads the trainer (it talks to spade/ only)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loaded_top_level_packages(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


@pytest.mark.parametrize("statement", ["import spade, spade.bench, spade.cli, spade.fast",
                                       "import train.cli, train.trainer, train.procedural"])
def test_library_and_trainer_never_load_qt_or_the_app(statement):
    loaded = loaded_top_level_packages(statement)
    assert not loaded & {"PySide6", "shiboken6", "qdarkstyle", "gauguin_app"}


def test_the_app_never_loads_the_trainer():
    loaded = loaded_top_level_packages("import gauguin_app.main, gauguin_app.main_window")
    assert "PySide6" in loaded and "spade" in loaded
    assert "train" not in loaded
