"""Fixtures for the app tests: offscreen Qt, tiny seeded models, an isolated main window."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from spade import SpadeRenderer, ade20k  # noqa: E402
from spade.checkpoint import save_checkpoint  # noqa: E402
from spade.model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator  # noqa: E402

TRAINED = ["unlabeled", "sky", "tree", "grass", "mountain", "water", "sea", "rock", "sand"]


def _trained_ids() -> list[int]:
    return [ade20k().id_of(n) for n in TRAINED]


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A tiny VAE model with a style encoder (64x64, random weights, seeded)."""
    torch.manual_seed(0)
    g = SPADEGenerator(GeneratorConfig(ngf=4, spade_hidden=8, use_vae=True, crop_size=64))
    e = ConvEncoder(EncoderConfig(ndf=4, input_size=64))
    return save_checkpoint(tmp_path_factory.mktemp("models") / "tiny", g, e, trained_classes=_trained_ids())


@pytest.fixture(scope="session")
def plain_model_path(tmp_path_factory) -> Path:
    """A tiny model without VAE and encoder (no style input)."""
    torch.manual_seed(1)
    g = SPADEGenerator(GeneratorConfig(ngf=4, spade_hidden=8, use_vae=False, crop_size=64))
    return save_checkpoint(tmp_path_factory.mktemp("models") / "plain", g, None, trained_classes=_trained_ids())


@pytest.fixture(scope="session")
def tiny_renderer(tiny_model_path) -> SpadeRenderer:
    return SpadeRenderer.load(tiny_model_path, "cpu")


class Prompts:
    """Records what the app would have shown in message boxes; answers questions as told."""

    def __init__(self):
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.questions: list[str] = []
        self.yes = True
        self.save_changes = "discard"
        self.open_path: str | None = None
        self.save_path: str | None = None
        self.folder: str | None = None


@pytest.fixture
def prompts(monkeypatch) -> Prompts:
    from gauguin_app import prompts as mod
    p = Prompts()
    monkeypatch.setattr(mod, "show_error", lambda parent, text, title="": p.errors.append(text))
    monkeypatch.setattr(mod, "show_info", lambda parent, text, title="": p.infos.append(text))
    monkeypatch.setattr(mod, "show_sheet", lambda parent, text, title="": p.infos.append(text))

    def ask_yes_no(parent, text, title=""):
        p.questions.append(text)
        return p.yes

    def ask_save_changes(parent, name, before="closing"):
        p.questions.append(f"save changes to {name} before {before}?")
        return p.save_changes

    monkeypatch.setattr(mod, "ask_yes_no", ask_yes_no)
    monkeypatch.setattr(mod, "ask_save_changes", ask_save_changes)
    monkeypatch.setattr(mod, "ask_open_path", lambda *a: p.open_path)
    monkeypatch.setattr(mod, "ask_save_path", lambda *a: p.save_path)
    monkeypatch.setattr(mod, "ask_folder", lambda *a: p.folder)
    return p


@pytest.fixture
def make_window(qtbot, tmp_path, prompts, tiny_model_path):
    """Build main windows with isolated settings and recovery folders; closes them at the end."""
    from gauguin_app.main_window import MainWindow
    from gauguin_app.recovery import RecoveryStore
    from gauguin_app.settings import AppSettings

    made = []

    def make(model_path=tiny_model_path, recovery_dir=None, wait_model=True, **kw) -> MainWindow:
        settings = AppSettings.at(tmp_path / "settings.ini")
        settings.device = "cpu"
        recovery = RecoveryStore(recovery_dir or tmp_path / "recovery")
        w = MainWindow(settings, model_path=str(model_path) if model_path else None,
                       load_model=model_path is not None, recovery=recovery, **kw)
        qtbot.addWidget(w)
        w.resize(1200, 700)
        w.show()
        made.append(w)
        if wait_model:
            wait_for_model(qtbot, w)
        return w

    yield make
    prompts.save_changes = "discard"
    for w in made:
        w.close()
        w.loader.shutdown()
        w.controller.shutdown()


def wait_for_photo(qtbot, window, timeout: int = 15000) -> None:
    """Wait until the photo shows the document's current revision."""
    qtbot.waitUntil(lambda: not window.controller.busy
                    and window.controller.shown_revision == window.doc.revision, timeout=timeout)


def wait_for_model(qtbot, window, timeout: int = 15000) -> None:
    """Wait until no model load is in flight (models load on a thread)."""
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=timeout)
