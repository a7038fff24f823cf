"""uint8 RGB arrays to Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(image: np.ndarray) -> QImage:
    """A deep-copied QImage of a uint8 (H, W, 3) RGB array."""
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    data = np.ascontiguousarray(image)
    height, width, _ = data.shape
    qimage = QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return qimage.copy()


def to_pixmap(image: np.ndarray) -> QPixmap:
    """A QPixmap of a uint8 (H, W, 3) RGB array."""
    return QPixmap.fromImage(to_qimage(image))
