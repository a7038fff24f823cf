"""ImageTile: a small widget painting an image scaled to fit, with a caption underneath."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from denoise_gui.widgets.qt_images import to_pixmap


class ImageTile(QWidget):
    """Paints a uint8 RGB image keeping its aspect (pixels stay sharp) and a caption below; emits sigClicked."""

    CAPTION_HEIGHT = 16
    sigClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.caption = ""
        self.setMinimumSize(32, 32 + self.CAPTION_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_image(self, image: np.ndarray, caption: str = "") -> None:
        """Show ``image`` (uint8 H x W x 3) with ``caption``."""
        self.pixmap = to_pixmap(image)
        self.caption = caption
        self.setToolTip(caption)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click (release inside) asks for the enlarged view."""
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.sigClicked.emit()
        super().mouseReleaseEvent(event)

    def sizeHint(self) -> QSize:
        """Prefer a modest square."""
        return QSize(96, 96 + self.CAPTION_HEIGHT)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the image scaled to fit, then the caption."""
        painter = QPainter(self)
        area = self.rect().adjusted(0, 0, 0, -self.CAPTION_HEIGHT)
        if self.pixmap is not None and not self.pixmap.isNull():
            size = self.pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(area.center())
            painter.drawPixmap(target, self.pixmap)
        if self.caption:
            caption_rect = QRect(0, self.height() - self.CAPTION_HEIGHT, self.width(), self.CAPTION_HEIGHT)
            painter.drawText(caption_rect, Qt.AlignmentFlag.AlignCenter, self.caption)
        painter.end()
