"""CI smoke test of an installed Gauguin: start the app as `gauguin` does (offscreen) and fail unless the
bundled model's photo appears in the photo panel within the time limit.

    python .ci/smoke_app.py [--timeout SECONDS]

Run it from outside the checkout, with the interpreter of the environment Gauguin is installed in.
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def photo_shown(window) -> str:
    """'' when the photo panel shows a rendered photo, else what is missing."""
    import numpy as np

    from gauguin_app.photo_view import PhotoView

    views = window.findChildren(PhotoView)
    if not views:
        return "no photo panel"
    view = views[0]
    if getattr(window, "renderer", None) is None:
        return "no model loaded"
    if view.photo_array is None:
        return "no photo yet"
    grabbed = view.grab().toImage()
    rect = view.target_rect().toRect().intersected(grabbed.rect())
    pixels = [grabbed.pixelColor(x, y).getRgb()[:3] for y in range(rect.top(), rect.bottom(), 4)
              for x in range(rect.left(), rect.right(), 4)]
    if len(pixels) < 100 or np.asarray(pixels, dtype=np.float64).std() < 10:
        return "the photo panel is blank"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from gauguin.cli import main as gauguin

    app = QApplication(["gauguin"])
    start, outcome = time.monotonic(), {"missing": "the app did not open a window"}

    def poll() -> None:
        windows = [w for w in app.topLevelWidgets() if isinstance(w, QMainWindow) and w.isVisible()]
        outcome["missing"] = photo_shown(windows[0]) if windows else "the app did not open a window"
        if not outcome["missing"]:
            app.exit(0)
        elif time.monotonic() - start > args.timeout:
            app.exit(1)
        else:
            QTimer.singleShot(200, poll)

    QTimer.singleShot(200, poll)
    code = gauguin([])
    if code == 0 and not outcome["missing"]:
        print(f"app smoke: the bundled model's photo is shown ({time.monotonic() - start:.1f} s)")
    else:
        print(f"app smoke FAILED: {outcome['missing']} after {time.monotonic() - start:.0f} s", file=sys.stderr)
        code = code or 1
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown (a PySide6 finaliser can abort after the window is gone)


if __name__ == "__main__":
    main()
