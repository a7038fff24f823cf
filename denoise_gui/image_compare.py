"""ImageCompare: original and denoised side by side, zoom and pan linked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget


def _image_view(parent: QWidget) -> tuple[pg.GraphicsView, pg.ViewBox, pg.ImageItem]:
    view = pg.GraphicsView(parent, background="#202020")
    box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
    view.setCentralItem(box)
    image = pg.ImageItem(axisOrder="row-major")
    box.addItem(image)
    return view, box, image


class ImageCompare(QWidget):
    """Two ViewBoxes of equal size sharing X and Y ranges: zoom or drag one and the other follows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left_widget, self.left_view, self.left_image = _image_view(self)
        self.right_widget, self.right_view, self.right_image = _image_view(self)
        self.right_view.setXLink(self.left_view)
        self.right_view.setYLink(self.left_view)
        self.left_title = QLabel("original", self)
        self.right_title = QLabel("denoised", self)
        for title in (self.left_title, self.right_title):
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.left_title, 0, 0)
        layout.addWidget(self.right_title, 0, 1)
        layout.addWidget(self.left_widget, 1, 0)
        layout.addWidget(self.right_widget, 1, 1)
        layout.setColumnStretch(0, 1)
        layout.setColumnStretch(1, 1)
        layout.setRowStretch(1, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Scroll to zoom, drag to pan: both sides follow. Press 0 to fit, + and - to zoom.")

    def set_images(self, original: np.ndarray | None, denoised: np.ndarray | None, note: str = "") -> None:
        """Show a pair (either may be None, e.g. while denoising); fits the view when the image changes."""
        previous = self.left_image.image
        if original is None:
            self.left_image.clear()
        else:
            self.left_image.setImage(original, levels=(0, 255), autoLevels=False)
        if denoised is None:
            self.right_image.clear()
        else:
            self.right_image.setImage(denoised, levels=(0, 255), autoLevels=False)
        self.right_title.setText(f"denoised {note}".strip())
        if original is not None and (previous is None or previous.shape != original.shape):
            self.fit()

    def fit(self) -> None:
        """Zoom to show the whole image."""
        self.left_view.autoRange(padding=0.02)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """'0' fits the image; '+'/'-' zoom."""
        key = event.text()
        if key == "0":
            self.fit()
        elif key in ("+", "="):
            self.left_view.scaleBy((0.8, 0.8))
        elif key == "-":
            self.left_view.scaleBy((1.25, 1.25))
        else:
            super().keyPressEvent(event)
