"""Every question and message the app puts to the user, in one place (tests replace these functions)."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def show_error(parent: QWidget | None, text: str, title: str = "Gauguin") -> None:
    QMessageBox.warning(parent, title, text)


def show_info(parent: QWidget | None, text: str, title: str = "Gauguin") -> None:
    QMessageBox.information(parent, title, text)


def show_sheet(parent: QWidget | None, html: str, title: str = "Gauguin") -> None:
    """A long text (HTML) in a dialog that fits the screen and scrolls."""
    from .dialogs import SheetDialog
    SheetDialog(html, title, parent).exec()


def ask_yes_no(parent: QWidget | None, text: str, title: str = "Gauguin") -> bool:
    answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes


def ask_save_changes(parent: QWidget | None, name: str, before: str = "closing") -> str:
    """'save', 'discard' or 'cancel'; `before` says what happens next ("closing", "opening x.png", …)."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes", f"Save the changes to “{name}” before {before}?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def ask_open_path(parent: QWidget | None, caption: str, folder: str, filters: str) -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, caption, folder, filters)
    return path or None


def ask_save_path(parent: QWidget | None, caption: str, suggested: str, filters: str) -> str | None:
    """A save dialog; it asks before overwriting an existing file."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    return path or None


def ask_folder(parent: QWidget | None, caption: str, folder: str) -> str | None:
    return QFileDialog.getExistingDirectory(parent, caption, folder) or None
