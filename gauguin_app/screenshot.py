"""Grab a screenshot of the real running app for the README (offscreen by default).

    python -m gauguin_app.screenshot --out docs/screenshot.png            # bundled model, first example
    python -m gauguin_app.screenshot --model PATH --example beach --style sunset_lake

It opens an example sketch, takes a preset style, paints a few strokes through the canvas's mouse handlers,
waits for the photo of the final sketch and saves `window.grab()`.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Screenshot of the running app")
    ap.add_argument("--model", help="model path (default: the bundled model)")
    ap.add_argument("--example", default="", help="example sketch name in assets/examples (default: the first)")
    ap.add_argument("--style", default="",
                    help="style preset name in assets/styles, or a photo's path (default: keep the seed)")
    ap.add_argument("--overlay", action="store_true", help="show the sketch overlay on the photo")
    ap.add_argument("--size", default="1500x860", help="window size WxH")
    ap.add_argument("--out", default="docs/screenshot.png")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import qdarkstyle
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from spade.paths import EXAMPLES_DIR, STYLES_DIR

    from .main_window import MainWindow
    from .settings import AppSettings

    app = QApplication.instance() or QApplication([])
    app.setStyleSheet(qdarkstyle.load_stylesheet(qt_api="pyside6"))
    tmp = Path(tempfile.mkdtemp(prefix="gauguin-shot-"))
    window = MainWindow(AppSettings.at(tmp / "settings.ini"), model_path=args.model)
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    t0 = time.time()
    while window.loader.busy and time.time() - t0 < 120:  # the model loads on its own thread
        app.processEvents()
        time.sleep(0.01)
    examples = sorted(EXAMPLES_DIR.glob("*.png"))
    chosen = [p for p in examples if p.stem == args.example] or examples[:1]
    if chosen:
        window.files.open_path(chosen[0], ask=False)
    if args.style and window.renderer is not None and window.renderer.has_encoder:
        photo = Path(args.style)
        window.styles.set_photo(photo if photo.is_file() else STYLES_DIR / f"{args.style}.png")
    window.overlay_check.setChecked(args.overlay)
    app.processEvents()

    canvas, doc = window.canvas, window.doc
    ih, iw = doc.shape

    def send(kind, x: float, y: float) -> None:
        pos = QPointF(canvas.offset.x() + x * iw * canvas.scale, canvas.offset.y() + y * ih * canvas.scale)
        held = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
        QApplication.sendEvent(canvas, QMouseEvent(kind, pos, canvas.mapToGlobal(pos), Qt.MouseButton.LeftButton,
                                                   held, Qt.KeyboardModifier.NoModifier))

    window.palette.select(doc.label_set.id_of("tree"))
    window.brush_slider.setValue(max(6, iw // 14))
    for cx, cy in ((0.12, 0.62), (0.2, 0.6)):
        send(QEvent.Type.MouseButtonPress, cx, cy)
        for k in range(12):
            send(QEvent.Type.MouseMove, cx + 0.004 * k, cy - 0.012 * k)
        send(QEvent.Type.MouseButtonRelease, cx + 0.044, cy - 0.13)
    t0 = time.time()
    while window.renderer is not None and time.time() - t0 < 300 and (
            window.controller.busy or window.controller.shown_revision != doc.revision):
        app.processEvents()
        time.sleep(0.01)
    hover = QPointF(canvas.offset.x() + 0.55 * iw * canvas.scale, canvas.offset.y() + 0.3 * ih * canvas.scale)
    QApplication.sendEvent(canvas, QMouseEvent(QEvent.Type.MouseMove, hover, canvas.mapToGlobal(hover),
                                               Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                               Qt.KeyboardModifier.NoModifier))
    for _ in range(5):
        app.processEvents()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(args.out)
    print(f"saved {args.out} (model: {window.renderer.name if window.renderer else 'none'})")
    doc.mark_saved()
    window.close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown (a PySide6 finaliser can abort after the window is gone)
