"""The class palette: swatch + name for every class, a search box, landscape classes first, recent ones at hand."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (QCheckBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QToolButton,
                               QVBoxLayout, QWidget)

from spade.labels import LabelSet

from .display_colours import display_colours, landscape_ids
from .settings import AppSettings

MAX_RECENT = 8
ID_ROLE = Qt.ItemDataRole.UserRole


def swatch_icon(rgb, size: int = 18, crossed: bool = False) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(*[int(c) for c in rgb]))
    p = QPainter(pm)
    p.setPen(QColor(20, 20, 20))
    p.drawRect(0, 0, size - 1, size - 1)
    if crossed:
        p.setPen(QColor(240, 240, 240))
        p.drawLine(2, size - 3, size - 3, 2)
    p.end()
    return QIcon(pm)


class Palette(QWidget):
    """Pick the class to paint. Emits class_selected(id) when the user picks one, and search_done when the
    search box is finished with (Enter picked a class, or Escape), so the window can take the keyboard back.

    Classes are drawn in the display colours (display_colours.py) unless `official` asks for the set's own;
    the recent classes of each label set are kept in `settings` when there are settings."""

    class_selected = Signal(int)
    search_done = Signal()

    def __init__(self, label_set: LabelSet, parent: QWidget | None = None, settings: AppSettings | None = None,
                 official: bool = False):
        super().__init__(parent)
        self.label_set = label_set
        self.settings = settings
        self.official = official
        self.colours = display_colours(label_set, official)
        self.trained = np.ones(len(label_set), dtype=bool)
        self.recent: list[int] = self._remembered_recent()
        self.current = self.recent[0] if self.recent else self._first_class()

        self.current_label = QLabel()
        self.current_label.setObjectName("currentClass")
        f = QFont(self.font())
        f.setBold(True)
        self.current_label.setFont(f)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search classes…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.search.returnPressed.connect(self._pick_first_visible)
        self.search.installEventFilter(self)
        self.no_match = QLabel()
        self.no_match.setWordWrap(True)
        self.no_match.setStyleSheet("color: #d9a441;")
        self.no_match.hide()
        self.show_untrained = QCheckBox("Show untrained classes")
        self.show_untrained.setToolTip("List the classes the loaded model was not trained on (they render poorly)")
        self.show_untrained.toggled.connect(lambda _: self._apply_filter(self.search.text()))
        self.recent_title = QLabel("Recent")
        self.recent_title.setStyleSheet("color: #9aa0a6;")
        self.recent_row = QHBoxLayout()
        self.recent_row.setSpacing(3)
        self.recent_row.addStretch(1)
        self.recent_buttons: list[QToolButton] = []
        self.list = QListWidget()
        self.list.setIconSize(QSize(18, 18))
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)   # long names elide
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.itemClicked.connect(self._item_clicked)
        self.list.itemActivated.connect(self._item_clicked)
        self.loading_label = QLabel()
        self.loading_label.setWordWrap(True)
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.loading_label.setStyleSheet("color: #9aa0a6;")
        self.loading_label.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.current_label)
        lay.addWidget(self.search)
        lay.addWidget(self.recent_title)
        lay.addLayout(self.recent_row)
        lay.addWidget(self.no_match)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.loading_label, 1)
        lay.addWidget(self.show_untrained)
        self.show_untrained.hide()
        self._populate()
        self._rebuild_recent()
        self._show_current()

    # -- building ---------------------------------------------------------------------------------------
    def _first_class(self) -> int:
        ids = self.ordered_ids()
        return ids[0] if ids[0] != 0 or len(ids) == 1 else ids[1]

    def _remembered_recent(self) -> list[int]:
        """The recent classes kept for this label set (by name: ids differ between sets)."""
        if self.settings is None:
            return []
        index = {name: i for i, name in enumerate(self.label_set.names)}
        ids = [index[n] for n in self.settings.recent_classes(self.label_set.name) if n in index]
        return list(dict.fromkeys(ids))[:MAX_RECENT]

    def set_label_set(self, label_set: LabelSet, trained: np.ndarray | None = None) -> None:
        """Show another label set (the loaded model's): its names, colours and order, and its recent classes."""
        self.label_set = label_set
        self.colours = display_colours(label_set, self.official)
        self.trained = self._trained_mask(trained)
        self.show_untrained.setVisible(not self.trained[1:].all())
        self.recent = self._remembered_recent()
        self.current = self.recent[0] if self.recent else self._first_class()
        self._populate()
        self._apply_filter(self.search.text())
        self._rebuild_recent()
        self._show_current()

    def set_official_colours(self, official: bool) -> None:
        """Draw the classes in the label set's own colours (True) or the display palette."""
        self.official = official
        self.colours = display_colours(self.label_set, official)
        self._populate()
        self._apply_filter(self.search.text())
        self._rebuild_recent()
        self._show_current()

    def set_loading(self, what: str | None) -> None:
        """While a model loads and none is there yet, say so instead of listing classes it may not have."""
        self.loading_label.setText(f"Loading {what}…\n\nIts classes appear here when it is ready."
                                   if what else "")
        for w in (self.list, self.search, self.current_label):
            w.setVisible(what is None)
        self.recent_title.setVisible(what is None and bool(self.recent))
        for b in self.recent_buttons:
            b.setVisible(what is None)
        self.loading_label.setVisible(what is not None)

    @property
    def loading(self) -> bool:
        return not self.loading_label.isHidden()

    def show_sketch_and_model(self, sketch_set: LabelSet, renderer) -> None:
        """List the sketch's label set; mark untrained classes when the model (a SpadeRenderer or None)
        uses that set."""
        if not sketch_set.same_classes(self.label_set):
            self.set_label_set(sketch_set)
        same = renderer is not None and renderer.label_set.same_classes(sketch_set)
        self.set_trained(renderer.trained_classes if same else None)

    def _trained_mask(self, trained: np.ndarray | None) -> np.ndarray:
        if trained is None or len(trained) != len(self.label_set):
            return np.ones(len(self.label_set), dtype=bool)
        return np.asarray(trained, bool)

    def landscape_ids(self) -> list[int]:
        """The set's landscape classes, first in the list (none for a set of one's own)."""
        return landscape_ids(self.label_set)

    def ordered_ids(self) -> list[int]:
        """A bundled set: its landscape classes in a fixed order, then every other class alphabetically; a set
        of one's own: its table's order. Unlabeled last."""
        common = self.landscape_ids()
        if not common:
            return list(range(1, len(self.label_set))) + [0]
        rest = sorted((i for i in range(1, len(self.label_set)) if i not in common),
                      key=lambda i: self.label_set.names[i].lower())
        return common + rest + [0]

    def _populate(self) -> None:
        self.list.clear()
        common_count = len(self.landscape_ids())
        for k, i in enumerate(self.ordered_ids()):
            if k == 0 and common_count:
                self._add_header("Landscape")
            elif k == common_count and common_count:
                self._add_header("All classes")
            item = QListWidgetItem(self._icon(i), self._text(i))
            item.setData(ID_ROLE, i)
            item.setToolTip(self._tooltip(i))
            if not self.trained[i]:
                item.setForeground(QColor(130, 130, 130))
                fi = QFont(self.font())
                fi.setItalic(True)
                item.setFont(fi)
            self.list.addItem(item)
    def _add_header(self, text: str) -> None:
        item = QListWidgetItem(text.upper())
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        item.setData(ID_ROLE, -1)
        f = QFont(self.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 0.85)
        item.setFont(f)
        item.setForeground(QColor(120, 170, 220))
        self.list.addItem(item)

    def _icon(self, i: int) -> QIcon:
        return swatch_icon(self.colours[i], crossed=not self.trained[i])

    def _text(self, i: int) -> str:
        name = self.label_set.names[i]
        return name if self.trained[i] else f"{name}  (not trained)"

    def _tooltip(self, i: int) -> str:
        r, g, b = (int(c) for c in self.label_set.colors[i])
        tip = f"{self.label_set.names[i]} — id {self.label_set.code_of(i)}, colour in files #{r:02x}{g:02x}{b:02x}"
        if not self.trained[i]:
            tip += "\nThe loaded model was not trained on this class: it may render poorly."
        return tip

    def set_trained(self, trained: np.ndarray | None) -> None:
        """Mark the classes the model knows (None: all)."""
        trained = self._trained_mask(trained)
        if np.array_equal(trained, self.trained):
            return
        self.trained = trained
        self.show_untrained.setVisible(not self.trained[1:].all())
        self._populate()
        self._apply_filter(self.search.text())
        self._rebuild_recent()
        self._show_current()

    # -- selection -----------------------------------------------------------------------------------------
    def item_for(self, class_id: int) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == class_id:
                return self.list.item(row)
        return None

    def visible_ids(self) -> list[int]:
        return [self.list.item(r).data(ID_ROLE) for r in range(self.list.count())
                if not self.list.item(r).isHidden() and self.list.item(r).data(ID_ROLE) >= 0]

    def select(self, class_id: int, emit: bool = True) -> None:
        """Make `class_id` current and put it first among the recent classes."""
        if not 0 <= class_id < len(self.label_set):
            return
        self.current = class_id
        if class_id in self.recent:
            self.recent.remove(class_id)
        self.recent.insert(0, class_id)
        del self.recent[MAX_RECENT:]
        if self.settings is not None:
            self.settings.set_recent_classes(self.label_set.name, [self.label_set.names[i] for i in self.recent])
        self._rebuild_recent()
        self._show_current()
        if emit:
            self.class_selected.emit(class_id)

    def _show_current(self) -> None:
        i = self.current
        r, g, b = (int(c) for c in self.colours[i])
        note = "" if self.trained[i] else " <span style='color:#d9a441'>(not trained)</span>"
        self.current_label.setText(f"<span style='background:#{r:02x}{g:02x}{b:02x}'>&nbsp;&nbsp;&nbsp;&nbsp;</span>"
                                   f"&nbsp;{self.label_set.names[i]}{note}")
        item = self.item_for(i)
        if item is not None:
            self.list.blockSignals(True)
            self.list.setCurrentItem(item)
            self.list.blockSignals(False)

    def _rebuild_recent(self) -> None:
        """The Recent row anew. The old buttons hide at once: a button only scheduled for deletion would stay
        drawn where it was, over the list, while a dialog's event loop runs (the convert question)."""
        for b in self.recent_buttons:
            self.recent_row.removeWidget(b)
            b.hide()
            b.deleteLater()
        self.recent_buttons = []
        self.recent_title.setVisible(bool(self.recent) and not self.loading)
        for k, i in enumerate(self.recent):
            b = QToolButton()
            b.setIcon(self._icon(i))
            b.setIconSize(QSize(20, 20))
            b.setAutoRaise(True)
            b.setToolTip(f"{self.label_set.names[i]}" + ("" if self.trained[i] else " (not trained)"))
            b.setObjectName(f"recent_{i}")
            b.clicked.connect(lambda _=False, cid=i: self.select(cid))
            self.recent_row.insertWidget(k, b)
            b.setVisible(not self.loading)
            self.recent_buttons.append(b)

    def _item_clicked(self, item: QListWidgetItem) -> None:
        cid = item.data(ID_ROLE)
        if cid is not None and cid >= 0:
            self.select(cid)

    def _matches(self, cid: int, key: str) -> bool:
        aliases = self.label_set.aliases[cid] if self.label_set.aliases else ""
        return not key or key in self.label_set.names[cid].lower() or key in aliases.lower()

    def _apply_filter(self, text: str) -> None:
        """Show the classes matching the search; untrained ones only when asked for (they render poorly)."""
        key = text.strip().lower()
        untrained = self.show_untrained.isChecked()
        hidden_untrained, header, header_used = 0, None, False
        for row in range(self.list.count() + 1):
            item = self.list.item(row) if row < self.list.count() else None
            if item is None or item.data(ID_ROLE) < 0:   # a header shows while its section shows something
                if header is not None:
                    header.setHidden(bool(key) or not header_used)
                header, header_used = item, False
                continue
            cid = item.data(ID_ROLE)
            match = self._matches(cid, key)
            hide = not match or (not untrained and not self.trained[cid])
            hidden_untrained += match and hide
            header_used |= not hide
            item.setHidden(hide)
        empty = bool(key) and not self.visible_ids()
        self.no_match.setText(f"Only classes the model was not trained on match “{text.strip()}”: tick "
                              "Show untrained classes to list them." if empty and hidden_untrained
                              else f"No class matches “{text.strip()}”.")
        self.no_match.setVisible(empty)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if obj is self.search and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.search_done.emit()
            return True
        return super().eventFilter(obj, event)

    def _pick_first_visible(self) -> None:
        ids = self.visible_ids()
        if ids:
            self.select(ids[0])
            self.search.clear()
            self.search_done.emit()
