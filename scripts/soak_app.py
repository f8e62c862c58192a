"""Soak check (run by CI after the tests): drive the real app offscreen through thousands of renders and edits.

The steps run inside the app's own event loop (app.exec(), a timer drives them), as a user's session does, so
everything the loop does for the app happens here too: queued signals, timers and the deferred deletion of
widgets the app replaces. Each round paints a short stroke with mouse events on the canvas (or undoes, redoes,
changes the style), waits for the photo of that exact sketch, and autosaves now and then. A PySide6 build that
leaks references to True or None aborts the interpreter after about a thousand renders; this check then dies
with exit 134 and CI fails. Resident memory and the number of live widgets are sampled along the way and
reported with their growth over the run; widgets that keep piling up fail the check.

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
WIDGET_GROWTH_LIMIT = 50  # live widgets the run may add after warm-up (a leak adds thousands)
STEP_TIMEOUT_S = 60.0


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


class Soak:
    """The rounds of the soak, one step per tick of a timer in the app's event loop: act, then wait (letting
    the loop run) until the photo shows that exact sketch."""

    CLASSES = [17, 5, 10, 22, 35, 3]

    def __init__(self, app, window, renders: int):
        from PySide6.QtCore import QTimer

        self.app, self.window, self.target = app, window, renders
        self.rounds = self.edits = 0
        self.samples: list[tuple[int, float, int]] = []  # (renders, RSS MiB, live widgets)
        self.failure = ""
        self.waiting_since: float | None = None
        self.started = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(1)
        self.timer.timeout.connect(self.tick)

    def run(self) -> None:
        self.timer.start()
        self.app.exec()

    def stop(self, failure: str = "") -> None:
        self.failure = failure
        self.timer.stop()
        self.app.exit(0)  # leaves the loop without closing the window (quit() would close it)

    def photo_current(self) -> bool:
        c = self.window.controller
        return not c.busy and c.shown_revision == self.window.doc.revision

    def tick(self) -> None:
        if self.waiting_since is not None:
            if self.photo_current():
                self.waiting_since = None
                self.after_round()
            elif time.perf_counter() - self.waiting_since > STEP_TIMEOUT_S:
                self.stop(f"no photo for revision {self.window.doc.revision} after {STEP_TIMEOUT_S:.0f} s")
            return
        if self.window.controller.renders >= self.target:
            self.stop()
            return
        self.step()
        self.waiting_since = time.perf_counter()

    def step(self) -> None:
        from PySide6.QtCore import QEvent

        self.rounds += 1
        kind = self.rounds % 10
        w = self.window
        if kind == 7:
            w.doc.undo()
        elif kind == 8:
            w.doc.redo()
        elif kind == 9:
            w.styles.random()
        else:
            w.palette.select(self.CLASSES[self.rounds % len(self.CLASSES)], emit=True)
            x0, y0 = (self.rounds * 7) % 60, (self.rounds * 13) % 60
            self.mouse(QEvent.Type.MouseButtonPress, x0, y0)
            for i in range(1, 4):
                self.mouse(QEvent.Type.MouseMove, (x0 + 3 * i) % 64, (y0 + 2 * i) % 64)
            self.mouse(QEvent.Type.MouseButtonRelease, (x0 + 9) % 64, (y0 + 6) % 64)
        self.edits += 1

    def mouse(self, kind, x: float, y: float) -> None:
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        canvas = self.window.canvas
        pos = QPointF(canvas.offset.x() + (x + 0.5) * canvas.scale, canvas.offset.y() + (y + 0.5) * canvas.scale)
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                                                   held, Qt.KeyboardModifier.NoModifier))

    def after_round(self) -> None:
        from PySide6.QtWidgets import QApplication

        if self.rounds % 50 == 0:
            self.window.autosaver.save()
        if self.rounds % 25 == 0:
            self.samples.append((self.window.controller.renders, rss_mib(), len(QApplication.allWidgets())))

    def figures(self) -> dict:
        import PySide6
        from PySide6.QtWidgets import QApplication

        settle = self.samples[len(self.samples) // 10] if self.samples else (0, rss_mib(), 0)
        end_rss, end_widgets = rss_mib(), len(QApplication.allWidgets())
        return {"renders": self.window.controller.renders, "edits": self.edits,
                "seconds": round(time.perf_counter() - self.started, 1),
                "pyside6": PySide6.__version__, "python": sys.version.split()[0],
                "warmup_renders": settle[0], "rss_mib_after_warmup": round(settle[1], 1),
                "rss_mib_end": round(end_rss, 1), "rss_mib_growth": round(end_rss - settle[1], 1),
                "rss_mib_max": round(max((m for _, m, _ in self.samples), default=end_rss), 1),
                "widgets_after_warmup": settle[2], "widgets_end": end_widgets,
                "rss_samples": [(n, round(m, 1), k) for n, m, k in self.samples[:: max(1, len(self.samples) // 10)]]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--renders", type=int, default=2000, help="photos to render (default 2000)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gauguin_app import prompts
    from gauguin_app.document import Document
    from gauguin_app.main_window import MainWindow
    from gauguin_app.recovery import RecoveryStore
    from gauguin_app.settings import AppSettings
    from gauguin_app.worker_threads import stop_all

    for name in ("show_error", "show_info"):  # a message box would wait for a click forever offscreen
        setattr(prompts, name, lambda parent, text, title="", _n=name: print(f"{_n}: {text}", file=sys.stderr))
    tmp = Path(tempfile.mkdtemp(prefix="gauguin-soak-"))
    app = QApplication.instance() or QApplication([])
    settings = AppSettings.at(tmp / "settings.ini")
    settings.device = "cpu"
    window = MainWindow(settings, model_path=str(tiny_model(tmp)), recovery=RecoveryStore(tmp / "recovery"))
    window.resize(900, 600)
    window.show()

    def loaded() -> None:  # in the event loop too: wait for the model, then start the rounds
        if window.loader.busy:
            return
        poll.stop()
        app.exit(0)
    poll = QTimer()
    poll.timeout.connect(loaded)
    poll.start(5)
    app.exec()
    if window.renderer is None:
        print("soak: the model did not load", file=sys.stderr)
        return 1
    window.set_document(Document.starter(64, 64))
    soak = Soak(app, window, args.renders)
    soak.run()
    if soak.failure:
        print(f"soak: {soak.failure}", file=sys.stderr)
        return 1
    figures = soak.figures()
    window.doc.mark_saved()
    window.close()
    stop_all()
    print(json.dumps(figures))
    print(f"soak: {figures['renders']} renders, {soak.edits} edits in {figures['seconds']} s without an abort; "
          f"resident memory {figures['rss_mib_after_warmup']} MiB after {figures['warmup_renders']} renders, "
          f"{figures['rss_mib_end']} MiB at the end ({figures['rss_mib_growth']:+.1f} MiB); live widgets "
          f"{figures['widgets_after_warmup']} after warm-up, {figures['widgets_end']} at the end "
          f"(PySide6 {figures['pyside6']}, Python {figures['python']})")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if figures["widgets_end"] - figures["widgets_after_warmup"] > WIDGET_GROWTH_LIMIT:
        print(f"soak: {figures['widgets_end'] - figures['widgets_after_warmup']} widgets piled up after warm-up",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
