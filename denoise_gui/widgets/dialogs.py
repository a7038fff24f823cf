"""Dialogs: the questions the app asks the user, in one replaceable object (tests answer them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


class Dialogs:
    """Modal questions; a test swaps in an object with the same methods and canned answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes/no (No is the default button)."""
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.question(self.parent, title, text, buttons, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def save_path(self, title: str, default: str, filters: str) -> str:
        """A file name to write ('' when cancelled)."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title, default, filters)
        return path

    def open_path(self, title: str, start: str, filters: str) -> str:
        """A file to read ('' when cancelled)."""
        path, _ = QFileDialog.getOpenFileName(self.parent, title, start, filters)
        return path

    def reveal(self, folder: Path) -> bool:
        """Show a folder in the file manager."""
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))
