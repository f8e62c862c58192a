"""Start the app: `gauguin [DOCUMENT] [--model PATH] [--device auto|cpu|cuda|mps]` (see gauguin/cli.py)."""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from spade.device import DEVICE_CHOICES
from spade.usage import UsageParser

log = logging.getLogger("gauguin")


def parse_args(argv: list[str], prog: str = "gauguin") -> argparse.Namespace:
    parser = UsageParser(prog=prog, description="Paint a semantic sketch, watch SPADE turn it into a photo. "
                                                f"`{prog} --help` lists the subcommands (render, train, ...).")
    parser.add_argument("document", nargs="?", help="a .gauguin document or a mask (index PNG / palette RGB) to open")
    parser.add_argument("--model", help="a Gauguin checkpoint folder, a training --checkpoint_dir (its latest/ "
                                        "is used) or an official SPADE checkpoint (file or folder)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, help="where the model runs (saved in the preferences)")
    return parser.parse_args(argv)


def recovery_folder() -> Path:
    from PySide6.QtCore import QStandardPaths
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".gauguin") / "recovery"


def install_excepthook(window_getter) -> None:
    """An unexpected error becomes a one-line message (the traceback goes to the log), never a crash."""
    def hook(kind, value, tb) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        from . import prompts
        try:
            prompts.show_error(window_getter(), f"Something went wrong: {value or kind.__name__}. "
                                                "Your sketch is still here; save it to be safe.")
        except Exception:
            sys.__excepthook__(kind, value, tb)
    sys.excepthook = hook


def run_app(argv: list[str], prog: str = "gauguin") -> int:
    """Open the main window; returns the exit code of the event loop."""
    args = parse_args(argv, prog)
    from PySide6.QtWidgets import QApplication
    import qdarkstyle

    from .main_window import MainWindow
    from .recovery import RecoveryStore
    from .settings import AppSettings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication([sys.argv[0]] if sys.argv else ["gauguin"])
    app.setApplicationName("Gauguin")
    app.setOrganizationName("Gauguin")
    app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    settings = AppSettings()
    if args.device:
        settings.device = args.device
    window = MainWindow(settings, model_path=args.model, recovery=RecoveryStore(recovery_folder()))
    install_excepthook(lambda: window)
    window.show()
    if args.document:
        window.files.open_path(args.document, ask=False)
    else:
        window.files.check_recovery()
    return app.exec()
