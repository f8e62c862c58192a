"""The style panel: the current style's thumbnail, a photo picker, the dice, presets and a blend slider."""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QImage, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSlider,
                               QSpinBox, QStyle, QStyleOptionSlider, QToolButton, QVBoxLayout, QWidget)

from .document import StyleSettings, StyleSource

THUMB, BLEND_THUMB = 84, 36
PRESET_ICON, PRESET_CELL, PRESET_COLUMNS = 48, QSize(76, 78), 2
SEED_COLOURS = {"a": (74, 144, 217), "b": (217, 143, 74)}  # a random style has no colour of its own to show


def seed_font(text: str, width: int, base: float = 0.0) -> QFont:
    """The largest font (up to `base` points, default a ninth of `width`) in which `text` fits `width` with a
    margin, so long seeds are never clipped in the thumbnail."""
    f = QFont()
    size = base or max(width / 9, 7)
    f.setPointSizeF(size)
    while size > 4 and QFontMetrics(f).horizontalAdvance(text) > width - 8:
        size -= 0.5
        f.setPointSizeF(size)
    return f


def source_pixmap(src: StyleSource | None, size: int = THUMB) -> QPixmap:
    """The photo of a photo style, or a dice face with the seed for a random one."""
    pm = QPixmap(size, size)
    pm.fill(QColor(45, 49, 56))
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if src is not None and src.kind == "image" and src.pixels is not None:
        h, w, _ = src.pixels.shape
        data = src.pixels.tobytes()   # the QImage reads these bytes; they live as long as it is used here
        img = QImage(data, w, h, 3 * w, QImage.Format.Format_RGB888)
        scaled = img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                            Qt.TransformationMode.SmoothTransformation)
        p.drawImage(0, 0, scaled, (scaled.width() - size) // 2, (scaled.height() - size) // 2, size, size)
    else:
        p.setPen(QColor(170, 176, 186))
        f = QFont()
        f.setPointSizeF(size / 4)
        p.setFont(f)
        p.drawText(pm.rect().adjusted(0, 0, 0, -size // 4), Qt.AlignmentFlag.AlignCenter, "\u2684")
        text = "no style" if src is None else str(src.seed)
        p.setFont(seed_font(text, size))
        p.drawText(pm.rect().adjusted(0, size // 2, 0, 0), Qt.AlignmentFlag.AlignCenter, text)
    p.setPen(QColor(90, 96, 106))
    p.drawRect(0, 0, size - 1, size - 1)
    p.end()
    return pm


def source_colour(src: StyleSource | None, slot: str) -> tuple[int, int, int]:
    """The colour a style stands for at its end of the blend slider: a photo's mean colour, else its slot's."""
    if src is not None and src.kind == "image" and src.pixels is not None:
        r, g, b = (int(c) for c in src.pixels.reshape(-1, 3).mean(0))
        return r, g, b
    return SEED_COLOURS[slot]


class JumpSlider(QSlider):
    """A slider a click on the groove moves to the clicked point (and on from there as a drag), instead of
    stepping a page towards it."""

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                                 QStyle.SubControl.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                                     QStyle.SubControl.SC_SliderGroove, self)
                x = int(event.position().x()) - groove.x() - handle.width() // 2
                self.setValue(QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x,
                                                             groove.width() - handle.width(), opt.upsideDown))
        super().mousePressEvent(event)


def blend_groove_css(a: tuple[int, int, int], b: tuple[int, int, int]) -> str:
    """The blend slider's groove as a gradient from the first style's colour to the second's."""
    return ("QSlider::groove:horizontal { height: 10px; border-radius: 5px; border: 1px solid #5a6270; background: "
            f"qlineargradient(x1:0, y1:0, x2:1, y2:0, stop:0 rgb{a}, stop:1 rgb{b}); }}"
            "QSlider::sub-page:horizontal, QSlider::add-page:horizontal { background: transparent; }"
            "QSlider::handle:horizontal { width: 12px; margin: -5px 0; border-radius: 6px; "
            "background: #f0f0f0; border: 2px solid #20232a; }"
            "QSlider::groove:horizontal:disabled { background: #3a3f48; }")


class StylePanel(QWidget):
    """Emits requests; the main window turns them into document changes (the panel holds no state of its own)."""

    photo_requested = Signal(str)          # "a" or "b": open a file dialog for that slot
    random_requested = Signal(str, int)    # slot, seed (-1: draw a fresh seed)
    preset_chosen = Signal(str)            # path of a preset photo (for slot a)
    blend_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.thumb_a = QLabel()
        self.thumb_a.setFixedSize(THUMB, THUMB)
        self.thumb_a.setToolTip("The current style. Drop a photo anywhere on the window to use its style.")
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.photo_button = QPushButton("Photo…")
        self.photo_button.setToolTip("Take the style of a photo (or drop one on the window)")
        self.photo_button.clicked.connect(lambda: self.photo_requested.emit("a"))
        self.dice_button = QPushButton("\u2684  Random")
        self.dice_button.setToolTip("Draw a random style (R). The seed reproduces it.")
        self.dice_button.clicked.connect(lambda: self.random_requested.emit("a", -1))
        self.seed_box = QSpinBox()
        self.seed_box.setRange(-1, 2**31 - 1)      # -1 shows "—": the style is a photo, not a seed
        self.seed_box.setSpecialValueText("—")
        self.seed_box.setToolTip("Seed of the random style: type one to get that style back")
        self.seed_box.setKeyboardTracking(False)
        self.seed_box.setMinimumWidth(84)   # the widest seed fits in less than the hint for 2**31 - 1 asks
        self.seed_box.valueChanged.connect(lambda v: v >= 0 and self.random_requested.emit("a", int(v)))

        top = QGridLayout()
        top.addWidget(self.thumb_a, 0, 0, 3, 1)
        top.addWidget(self.caption, 0, 1, 1, 2)
        top.addWidget(self.photo_button, 1, 1)
        top.addWidget(self.dice_button, 1, 2)
        seed_label = QLabel("Seed")
        top.addWidget(seed_label, 2, 1)
        top.addWidget(self.seed_box, 2, 2)

        self.presets = QListWidget()
        self.presets.setViewMode(QListWidget.ViewMode.IconMode)
        self.presets.setIconSize(QSize(PRESET_ICON, PRESET_ICON))
        self.presets.setGridSize(PRESET_CELL)
        self.presets.setFlow(QListWidget.Flow.LeftToRight)
        self.presets.setWrapping(True)
        self.presets.setWordWrap(True)
        self.presets.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.presets.setMovement(QListWidget.Movement.Static)
        self.presets.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.presets.itemClicked.connect(lambda it: self.preset_chosen.emit(it.data(Qt.ItemDataRole.UserRole)))
        self.presets_label = QLabel("Presets")

        self.thumb_a_small = QLabel()
        self.thumb_a_small.setFixedSize(BLEND_THUMB, BLEND_THUMB)
        self.thumb_a_small.setToolTip("The style (the blend at 0%)")
        self.thumb_b = QLabel()
        self.thumb_b.setFixedSize(BLEND_THUMB, BLEND_THUMB)
        self.thumb_b.setToolTip("The second style of the blend (the blend at 100%)")
        self.b_photo = QToolButton()
        self.b_photo.setText("Photo…")
        self.b_photo.setToolTip("Blend towards the style of a photo")
        self.b_photo.clicked.connect(lambda: self.photo_requested.emit("b"))
        self.b_dice = QToolButton()
        self.b_dice.setText("\u2684")
        self.b_dice.setToolTip("Blend towards a random style")
        self.b_dice.clicked.connect(lambda: self.random_requested.emit("b", -1))
        self.blend = JumpSlider(Qt.Orientation.Horizontal)
        self.blend.setRange(0, 100)
        self.blend.setMinimumWidth(60)
        self.blend.setToolTip("Blend between the style (left) and the second style (right); click or drag")
        self.blend.valueChanged.connect(self._blend_moved)
        self.blend_value = QLabel("0%")
        self.blend_value.setMinimumWidth(QFontMetrics(self.blend_value.font()).horizontalAdvance("100%") + 4)
        self.blend_value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        blend_row = QHBoxLayout()
        blend_row.addWidget(self.thumb_a_small)
        blend_row.addWidget(self.blend, 1)
        blend_row.addWidget(self.thumb_b)
        blend_row.addWidget(self.blend_value)
        blend_buttons = QHBoxLayout()
        blend_buttons.addWidget(QLabel("Blend with"))
        blend_buttons.addWidget(self.b_photo)
        blend_buttons.addWidget(self.b_dice)
        blend_buttons.addStretch(1)

        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #d9a441;")
        self.reason.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.reason)
        lay.addLayout(top)
        lay.addWidget(self.presets_label)
        lay.addWidget(self.presets, 1)
        lay.addLayout(blend_buttons)
        lay.addLayout(blend_row)
        lay.addStretch(0)
        self.presets.setToolTip("Click a preset to use its style")
        self._photo_widgets = (self.photo_button, self.b_photo, self.presets)
        self._seed_widgets = (self.dice_button, self.seed_box, self.b_dice, self.blend)
        self._tips = {w: w.toolTip() for w in self._photo_widgets + self._seed_widgets}
        self.set_presets([])
        self.show_style(StyleSettings())

    def set_presets(self, paths: list[Path]) -> None:
        self.presets.clear()
        for path in paths:
            img = QImage(str(path))
            if img.isNull():
                continue
            thumb = img.scaled(PRESET_ICON, PRESET_ICON, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                               Qt.TransformationMode.SmoothTransformation)
            item = QListWidgetItem(QIcon(QPixmap.fromImage(thumb)), path.stem.replace("_", " "))
            item.setToolTip(path.stem.replace("_", " "))
            item.setSizeHint(PRESET_CELL)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.presets.addItem(item)
        has = self.presets.count() > 0
        frame = 2 * self.presets.frameWidth() + 6
        self.presets.setMinimumHeight(PRESET_CELL.height() + frame)          # one row that scrolls where short
        self.presets.setMinimumWidth(PRESET_COLUMNS * PRESET_CELL.width() + frame + 14)
        self._fit_presets()
        self.presets.setVisible(has)
        self.presets_label.setVisible(has)

    def _fit_presets(self) -> None:
        """As tall as the rows of presets at the present width need, so they all show where there is room."""
        frame = 2 * self.presets.frameWidth() + 6
        columns = max(1, (self.presets.width() - frame) // PRESET_CELL.width())
        rows = max(1, -(-self.presets.count() // columns))
        self.presets.setMaximumHeight(rows * PRESET_CELL.height() + frame)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_presets()

    def show_style(self, style: StyleSettings) -> None:
        """Reflect the document's style without emitting requests."""
        self.thumb_a.setPixmap(source_pixmap(style.a))
        self.caption.setText(f"<b>{html.escape(style.a.label)}</b> "
                             + ("(photo)" if style.a.kind == "image" else "(random)"))
        self.caption.setToolTip(style.a.label)
        self.thumb_a_small.setPixmap(source_pixmap(style.a, BLEND_THUMB))
        self.thumb_b.setPixmap(source_pixmap(style.b, BLEND_THUMB))
        self.blend.setStyleSheet(blend_groove_css(source_colour(style.a, "a"), source_colour(style.b, "b")))
        self._select_preset(style.a)
        for w, v in ((self.seed_box, style.a.seed if style.a.kind == "seed" else -1),
                     (self.blend, int(round(style.t * 100)))):
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)
        self.blend_value.setText(f"{int(round(style.t * 100))}%" if style.b is not None else "")
        self.blend.setEnabled(style.b is not None and self.b_dice.isEnabled())

    def _blend_moved(self, value: int) -> None:
        self.blend_value.setText(f"{value}%")
        self.blend_changed.emit(value / 100.0)

    def _select_preset(self, source: StyleSource) -> None:
        """Highlight the preset the style came from, and none when it comes from elsewhere."""
        self.presets.blockSignals(True)
        self.presets.clearSelection()
        for i in range(self.presets.count()):
            item = self.presets.item(i)
            preset = Path(item.data(Qt.ItemDataRole.UserRole))
            if source.kind == "image" and source.name in (preset.name, preset.stem):
                item.setSelected(True)
        self.presets.blockSignals(False)

    def set_capabilities(self, uses_style: bool, has_encoder: bool, model_name: str | None,
                         loading: str | None = None) -> None:
        """Enable what the model can do; disabled controls say why in their tooltip (`loading`: the model being
        loaded while there is none)."""
        if model_name is None and loading:
            why = f"Loading {loading}…"
        elif model_name is None:
            why = "Load a model to choose a style."
        elif not uses_style:
            why = f"The model “{model_name}” has no style input (it was trained without the VAE encoder)."
        elif not has_encoder:
            why = f"The model “{model_name}” has no style encoder, so it cannot take a photo's style; use the dice."
        else:
            why = ""
        photo_ok = uses_style and has_encoder
        for widgets, ok in ((self._photo_widgets, photo_ok), (self._seed_widgets, uses_style)):
            for w in widgets:
                w.setEnabled(ok)
                w.setToolTip(self._tips[w] if ok else why)
        self.reason.setText(why)
        self.reason.setVisible(bool(why))
