"""Small dialogs: new canvas, preferences, model information, and long sheets (the keyboard shortcuts)."""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox,
                               QTextBrowser, QVBoxLayout, QWidget)

from spade.device import DEVICE_CHOICES, available_devices
from spade.label_convert import counterpart
from spade.labels import LabelSet

NEW_CANVAS_FILLS = ("sky", "unlabeled", "grass", "sea", "sand")
ABOUT_HTML = ("<b>Gauguin</b><br>Paint a semantic sketch, get a photo.<br>SPADE: Park et al., Semantic Image "
              "Synthesis with Spatially-Adaptive Normalization, CVPR 2019.")


class SheetDialog(QDialog):
    """A sheet of HTML as tall as its text or the screen allows, whichever is less: the text scrolls and the OK
    button stays on screen (a message box grows past the screen's bottom)."""

    SCREEN_SHARE = 0.85

    def __init__(self, html: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QTextBrowser()
        self.text.setHtml(html)
        self.text.setOpenLinks(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.buttons)
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        room = screen.availableGeometry()
        doc = self.text.document()
        doc.setTextWidth(min(doc.idealWidth(), room.width() * self.SCREEN_SHARE))
        margins = lay.contentsMargins()
        chrome_w = margins.left() + margins.right() + 2 * self.text.frameWidth() + 24  # 24: a scroll bar
        chrome_h = (margins.top() + margins.bottom() + lay.spacing() + self.buttons.sizeHint().height()
                    + 2 * self.text.frameWidth() + 8)
        self.resize(int(min(doc.size().width() + chrome_w, room.width() * self.SCREEN_SHARE)),
                    int(min(doc.size().height() + chrome_h, room.height() * self.SCREEN_SHARE)))

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        """Centred on its window, but moved back onto the screen where the window is larger than it."""
        super().showEvent(event)
        room, frame = self.screen().availableGeometry(), self.frameGeometry()
        x = min(max(frame.x(), room.left()), room.right() + 1 - frame.width())
        y = min(max(frame.y(), room.top()), room.bottom() + 1 - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)


class NewCanvasDialog(QDialog):
    def __init__(self, sizes: list[tuple[int, int]], size_rule: str, label_set: LabelSet,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New Canvas")
        self.sizes = sizes
        self.size_box = QComboBox()
        for h, w in sizes:
            self.size_box.addItem(f"{w} × {h}")
        self.fill_box = QComboBox()
        self.fill_ids = []
        for name in NEW_CANVAS_FILLS:
            found = counterpart(name, label_set)
            if found is not None and found not in self.fill_ids:
                self.fill_ids.append(found)
                self.fill_box.addItem(label_set.names[found])
        form = QFormLayout(self)
        form.addRow("Size", self.size_box)
        rule = QLabel(f"The model renders {size_rule}." if size_rule else "No model loaded: any size can be painted.")
        rule.setStyleSheet("color: #9aa0a6;")
        form.addRow("", rule)
        form.addRow("Fill with", self.fill_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[tuple[int, int], int]:
        """((height, width), fill class id)."""
        return self.sizes[self.size_box.currentIndex()], self.fill_ids[self.fill_box.currentIndex()]


class PreferencesDialog(QDialog):
    def __init__(self, device: str, autosave_seconds: int, live_render: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.device_box = QComboBox()
        found = available_devices()
        for name in DEVICE_CHOICES:
            note = "" if name == "auto" or name in found else " (not available here)"
            self.device_box.addItem(name + note, name)
        self.device_box.setCurrentIndex(max(0, self.device_box.findData(device)))
        self.autosave = QSpinBox()
        self.autosave.setRange(5, 600)
        self.autosave.setSuffix(" s")
        self.autosave.setValue(autosave_seconds)
        self.live = QCheckBox("Render while the stroke is being painted")
        self.live.setChecked(live_render)
        form = QFormLayout(self)
        form.addRow("Device", self.device_box)
        form.addRow("Autosave every", self.autosave)
        form.addRow("", self.live)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, int, bool]:
        return self.device_box.currentData(), self.autosave.value(), self.live.isChecked()

    @classmethod
    def edit(cls, settings, parent: QWidget | None = None) -> bool | None:
        """Show the dialog for `settings` (AppSettings) and store what is accepted; None when cancelled, else
        whether the device changed (the model then reloads on the new one)."""
        dialog = cls(settings.device, settings.autosave_seconds, settings.live_render, parent)
        if not dialog.exec():
            return None
        device, settings.autosave_seconds, settings.live_render = dialog.values()
        changed = device != settings.device
        settings.device = device
        return changed


def model_info_html(info: dict, label_set: LabelSet) -> str:
    """A readable summary of SpadeRenderer.info()."""
    rows = [("Name", info.get("name")), ("Format", info.get("source")), ("Device", info.get("device")),
            ("Parameters", f"{info.get('parameters', 0) / 1e6:.1f} M"),
            ("Renders", info.get("size")),
            ("Style", _style_inputs(info)),
            ("Label set", label_set.display_name),
            ("Classes", f"{info.get('classes')} of {label_set.class_count} trained")]
    training = info.get("training") or {}
    for key in ("dataset", "iterations", "epochs", "date"):
        if key in training:
            rows.append((key.capitalize(), _iterations(training) if key == "iterations" else training[key]))
    body = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _style_inputs(info: dict) -> str:
    if not info.get("vae"):
        return "none (no style input)"
    if info.get("style_atlas"):
        return f"photo + random (a style atlas of {info['style_atlas']} latents reads photos)"
    return "photo + random (VAE with encoder)" if info.get("encoder") else "random only (no encoder)"


def _iterations(training: dict) -> str:
    """A model refined in stages records the earlier stages: count them all, not only the last one."""
    stages = [s for s in training.get("earlier_stages") or [] if isinstance(s, dict)]
    if not stages:
        return str(training["iterations"])
    total = int(training["iterations"]) + sum(int(s.get("iterations", 0)) for s in stages)
    return f"{total} in {len(stages) + 1} stages (the last one {training['iterations']})"
