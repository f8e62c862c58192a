"""Soak check (run by CI after the tests): drive the real app offscreen through thousands of renders and edits.

Each round paints a short stroke with mouse events on the canvas (or undoes, redoes, changes the style),
waits for the photo of that exact sketch, and autosaves now and then. A PySide6 build that leaks references
to True or None aborts the interpreter after about a thousand renders; this check then dies with exit 134
and CI fails. The resident memory is sampled along the way and reported, with the growth over the run.

    python scripts/soak_app.py                   # 2000 renders with a tiny seeded model
    python scripts/soak_app.py --renders 500 --json soak.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mib() -> float:
    """Resident memory of this process (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tiny_model(folder: Path) -> Path:
    import torch

    from spade.checkpoint import save_checkpoint
    from spade.model import ConvEncoder, EncoderConfig, GeneratorConfig, SPADEGenerator
    torch.manual_seed(0)
    g = SPADEGenerator(GeneratorConfig(ngf=4, spade_hidden=8, use_vae=True, crop_size=64))
    e = ConvEncoder(EncoderConfig(ndf=4, input_size=64))
    return save_checkpoint(folder / "soak-tiny", g, e, name="soak tiny")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=2000, help="photos to render (default 2000)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from gauguin_app import prompts
    from gauguin_app.document import Document
    from gauguin_app.main_window import MainWindow
    from gauguin_app.recovery import RecoveryStore
    from gauguin_app.settings import AppSettings

    for name in ("show_error", "show_info"):  # a message box would wait for a click forever offscreen
        setattr(prompts, name, lambda parent, text, title="", _n=name: print(f"{_n}: {text}", file=sys.stderr))
    tmp = Path(tempfile.mkdtemp(prefix="gauguin-soak-"))
    app = QApplication.instance() or QApplication([])
    settings = AppSettings.at(tmp / "settings.ini")
    settings.device = "cpu"
    window = MainWindow(settings, model_path=str(tiny_model(tmp)), recovery=RecoveryStore(tmp / "recovery"))
    window.resize(900, 600)
    window.show()

    def wait(condition, limit: float = 60.0) -> bool:
        end = time.perf_counter() + limit
        while not condition():
            if time.perf_counter() > end:
                return False
            app.processEvents()
            time.sleep(0.0005)
        return True

    if not wait(lambda: not window.loader.busy) or window.renderer is None:
        print("soak: the model did not load", file=sys.stderr)
        return 1
    window.set_document(Document.starter(64, 64))
    canvas = window.canvas

    def send(kind, x: float, y: float) -> None:
        pos = QPointF(canvas.offset.x() + (x + 0.5) * canvas.scale, canvas.offset.y() + (y + 0.5) * canvas.scale)
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                                                   held, Qt.KeyboardModifier.NoModifier))

    def photo_current() -> bool:
        c = window.controller
        return not c.busy and c.shown_revision == window.doc.revision

    classes = [17, 5, 10, 22, 35, 3]
    samples: list[tuple[int, float]] = []
    edits = 0
    started = time.perf_counter()
    rounds = 0
    while window.controller.renders < args.renders:
        rounds += 1
        step = rounds % 10
        if step == 7:
            window.doc.undo()
        elif step == 8:
            window.doc.redo()
        elif step == 9:
            window.styles.random()
        else:
            window.palette.select(classes[rounds % len(classes)], emit=True)
            x0, y0 = (rounds * 7) % 60, (rounds * 13) % 60
            send(QEvent.Type.MouseButtonPress, x0, y0)
            for i in range(1, 4):
                send(QEvent.Type.MouseMove, (x0 + 3 * i) % 64, (y0 + 2 * i) % 64)
            send(QEvent.Type.MouseButtonRelease, (x0 + 9) % 64, (y0 + 6) % 64)
        edits += 1
        if not wait(photo_current):
            print(f"soak: no photo for revision {window.doc.revision} after 60 s", file=sys.stderr)
            return 1
        if rounds % 50 == 0:
            window.autosaver.save()
        if rounds % 100 == 0:
            samples.append((window.controller.renders, rss_mib()))
    seconds = time.perf_counter() - started
    import PySide6
    settle = samples[len(samples) // 10] if samples else (0, rss_mib())
    figures = {"renders": window.controller.renders, "edits": edits, "seconds": round(seconds, 1),
               "pyside6": PySide6.__version__, "python": sys.version.split()[0],
               "rss_mib_after_warmup": round(settle[1], 1), "rss_mib_end": round(rss_mib(), 1),
               "rss_mib_max": round(max((m for _, m in samples), default=rss_mib()), 1),
               "rss_samples": [(n, round(m, 1)) for n, m in samples[:: max(1, len(samples) // 10)]]}
    window.doc.mark_saved()
    window.close()
    print(json.dumps(figures))
    print(f"soak: {figures['renders']} renders, {edits} edits in {figures['seconds']} s without an abort; resident "
          f"memory {figures['rss_mib_after_warmup']} MiB after warm-up, {figures['rss_mib_end']} MiB at the end "
          f"(PySide6 {figures['pyside6']}, Python {figures['python']})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
