"""The history list: every undo step by name; clicking one undoes or redoes to it."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from .undo import UndoStack


class HistoryView(QListWidget):
    """Row 0 is the sketch as opened; row k is the state after k steps. Undone steps are greyed until redone."""

    step_chosen = Signal(int)  # how many steps to have applied

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip("Click a step to go back (or forward) to it")
        self.itemClicked.connect(lambda item: self.step_chosen.emit(self.row(item)))

    def show_stack(self, stack: UndoStack) -> None:
        self.blockSignals(True)
        self.clear()
        for k, name in enumerate(["Opened"] + [n.capitalize() for n in stack.names]):
            item = QListWidgetItem(name)
            if k > stack.position:
                item.setForeground(QColor(120, 120, 120))
            self.addItem(item)
        self.setCurrentRow(stack.position)
        self.blockSignals(False)
