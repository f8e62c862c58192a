"""Start the app: `gauguin [DOCUMENT] [--model PATH] [--device auto|cpu|cuda|mps]` (see gauguin/cli.py)."""
from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from spade.device import DEVICE_CHOICES
from spade.errors import GauguinError
from spade.model_path import resolve_model_path
from spade.usage import EXIT_BAD_INPUT, UsageParser

log = logging.getLogger("gauguin")


def parse_args(argv: list[str], prog: str = "gauguin") -> argparse.Namespace:
    parser = UsageParser(prog=prog, description="Paint a semantic sketch, watch SPADE turn it into a photo. "
                                                f"`{prog} --help` lists the subcommands (render, train, ...).")
    parser.add_argument("document", nargs="?", help="a .gauguin document or a mask (index PNG / palette RGB) to open")
    parser.add_argument("--model", help="a Gauguin checkpoint folder, a training --checkpoint_dir (its latest/ "
                                        "is used) or an official SPADE checkpoint (file or folder)")
    parser.add_argument("--device", choices=DEVICE_CHOICES,
                        help="where the model runs (saved in the preferences once a model has loaded there; "
                             "one this machine lacks gives the CPU)")
    return parser.parse_args(argv)


def start_error(args: argparse.Namespace) -> str | None:
    """The one line that stops the start before any window (None: start): a --model path that names no model
    (cheap: the path is resolved, not loaded) or a document that is not there."""
    if args.model:
        try:
            resolve_model_path(args.model)
        except GauguinError as e:
            return f"error: {e}"
    if args.document and not Path(args.document).exists():
        return f"error: file not found: {args.document}"
    return None


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


def open_at_start(window, document: str | None) -> None:
    """Open the file given on the command line, else offer the work of crashed sessions. Whatever goes wrong
    is one message, and the window stays open with its starter sketch."""
    from . import prompts
    from .model_loader import load_message
    try:
        if document:
            window.files.open_path(document, ask=False)
        else:
            window.files.check_recovery()
    except Exception as e:  # a file that breaks the start would break every start
        log.debug("at start:\n%s", traceback.format_exc())
        what = f"Cannot open {Path(document).name}" if document else "Cannot look for unsaved work"
        text = f"{what}: {load_message(e)}"
        log.error("%s", text)
        prompts.show_error(window, text)


def run_app(argv: list[str], prog: str = "gauguin") -> int:
    """Open the main window; returns the exit code of the event loop. The worker threads are stopped before
    this returns, whichever way it does."""
    args = parse_args(argv, prog)
    refused = start_error(args)
    if refused:
        print(refused, file=sys.stderr)
        return EXIT_BAD_INPUT
    from PySide6.QtWidgets import QApplication
    import qdarkstyle

    from .main_window import MainWindow
    from .model_loader import load_message
    from .recovery import RecoveryStore
    from .settings import AppSettings
    from .worker_threads import stop_all

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication([sys.argv[0]] if sys.argv else ["gauguin"])
    app.setApplicationName("Gauguin")
    app.setOrganizationName("Gauguin")
    app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    settings = AppSettings()
    if args.device:
        settings.try_device(args.device)
    try:
        window = MainWindow(settings, model_path=args.model, recovery=RecoveryStore(recovery_folder()))
        install_excepthook(lambda: window)
        window.show()
        open_at_start(window, args.document)
        return app.exec()
    except Exception as e:  # the window itself could not be built: one line, not a crash
        log.debug("building the window:\n%s", traceback.format_exc())
        print(f"error: Gauguin cannot open its window: {load_message(e)}", file=sys.stderr)
        return 1
    finally:
        stop_all()
