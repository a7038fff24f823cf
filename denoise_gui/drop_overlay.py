"""DropOverlay: the highlight over the window while files are dragged onto it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget


class DropOverlay(QWidget):
    """A translucent panel with a dashed border and a line saying what a drop does; mouse events pass through."""

    def __init__(self, parent: QWidget, text: str = "Drop photos or folders to denoise them") -> None:
        super().__init__(parent)
        self.host = parent
        self.text = text
        self.setObjectName("dropOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.hide()
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's size."""
        if watched is self.host and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.host.rect())
        return False

    def show_for_drag(self) -> None:
        """Cover the parent and show."""
        self.setGeometry(self.host.rect())
        self.raise_()
        self.show()

    def paintEvent(self, event: QPaintEvent) -> None:
        """Tint, border and text."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(31, 119, 180, 70))
        pen = QPen(QColor(31, 119, 180), 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(self.rect().adjusted(6, 6, -6, -6), 10, 10)
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.text)
        painter.end()
