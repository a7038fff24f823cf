"""ZoomCanvas: an image viewer that zooms and pans, with an optional before/after split slider.

Each canvas paints one image, or two split by a vertical line that the user drags (original on
the left of it, the result on the right). Zoom and position live in a shared ``ViewState`` so
that two canvases side by side move together. Images are uint8 (H, W, 3) arrays wrapped in a
QImage without copying (``repaint_image`` shows an array that another thread is filling in);
only the visible part is drawn, so a 24-megapixel photo pans as fast as a small one.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 1 / 64, 64.0
SPLIT_GRAB_PX = 8
SMOOTH_BELOW_PIXELS = 4_000_000  # smooth scaling for images up to this size (beyond, it would cost frames)
BACKGROUND = QColor("#202020")


def wrap_image(array: np.ndarray) -> QImage:
    """A QImage that shares ``array``'s memory (keep the array alive while the QImage is used)."""
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or not array.flags.c_contiguous:
        raise ValueError(f"expected a C-contiguous uint8 (H, W, 3) image, got {array.dtype} {array.shape}")
    height, width, _ = array.shape
    return QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888)


class ViewState(QObject):
    """Zoom (screen pixels per image pixel) and the image point at the centre; ``fit`` follows the widget size."""

    sigChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scale = 1.0
        self.centre = QPointF(0.0, 0.0)
        self.fit = True

    def set(self, scale: float, centre: QPointF, fit: bool = False) -> None:
        """Move and zoom (scale clamped to 1/64–64)."""
        self.scale = min(max(scale, MIN_SCALE), MAX_SCALE)
        self.centre = QPointF(centre)
        self.fit = fit
        self.sigChanged.emit()


class ZoomCanvas(QWidget):
    """Paints ``left`` (and ``right`` past the split line, in split mode) under the shared ViewState."""

    sigSplitMoved = Signal(float)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.left: np.ndarray | None = None
        self.right: np.ndarray | None = None
        self._left_q: QImage | None = None
        self._right_q: QImage | None = None
        self.split = False
        self.split_at = 0.5  # fraction of the image width
        self.caption_left = ""
        self.caption_right = ""
        self.message = ""
        self._drag: str = ""
        self._last = QPointF()
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        state.sigChanged.connect(self.update)

    # -- content ---------------------------------------------------------------------------
    def set_images(self, left: np.ndarray | None, right: np.ndarray | None = None) -> None:
        """Show ``left`` alone, or ``left`` | ``right`` in split mode (arrays are shared, not copied)."""
        self.left = None if left is None else np.ascontiguousarray(left)
        self.right = None if right is None else np.ascontiguousarray(right)
        self._left_q = wrap_image(self.left) if self.left is not None else None
        self._right_q = wrap_image(self.right) if self.right is not None else None
        if self.state.fit:
            self.fit()
        self.update()

    def repaint_image(self) -> None:
        """The shown arrays changed in place (a result filling in): paint again."""
        self.update()

    def set_message(self, text: str) -> None:
        """Text shown in the middle (over the image, or alone when there is none)."""
        self.message = text
        self.update()

    def image_size(self) -> QSize:
        """Size of the shown image (0×0 when none)."""
        if self.left is None:
            return QSize(0, 0)
        return QSize(self.left.shape[1], self.left.shape[0])

    # -- geometry --------------------------------------------------------------------------
    def fit_scale(self) -> float:
        """The scale at which the whole image fits the widget."""
        size = self.image_size()
        if size.isEmpty() or self.width() <= 0 or self.height() <= 0:
            return 1.0
        return min(self.width() / size.width(), self.height() / size.height())

    def fit(self) -> None:
        """Show the whole image."""
        size = self.image_size()
        self.state.set(self.fit_scale(), QPointF(size.width() / 2, size.height() / 2), fit=True)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, keeping the centre."""
        self.state.set(1.0, self.state.centre)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (widget coordinates) in place."""
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        before = self.to_image(anchor)
        scale = min(max(self.state.scale * factor, MIN_SCALE), MAX_SCALE)
        centre = before - (anchor - QPointF(self.width() / 2, self.height() / 2)) / scale
        self.state.set(scale, centre)

    def to_image(self, point: QPointF) -> QPointF:
        """Widget coordinates to image coordinates."""
        return self.state.centre + (QPointF(point) - QPointF(self.width() / 2, self.height() / 2)) / self.state.scale

    def to_widget(self, point: QPointF) -> QPointF:
        """Image coordinates to widget coordinates."""
        return (QPointF(point) - self.state.centre) * self.state.scale + QPointF(self.width() / 2, self.height() / 2)

    def split_x(self) -> float:
        """The split line's x in widget coordinates."""
        return self.to_widget(QPointF(self.split_at * self.image_size().width(), 0)).x()

    def set_split(self, fraction: float) -> None:
        """Move the split line to this fraction of the image width."""
        self.split_at = min(max(fraction, 0.0), 1.0)
        self.sigSplitMoved.emit(self.split_at)
        self.update()

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        """The visible part of the image(s), the split line, captions and any message."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        size = self.image_size()
        if self._left_q is not None and not size.isEmpty():
            pixels = size.width() * size.height()
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                                  self.state.scale < 1 and pixels <= SMOOTH_BELOW_PIXELS)
            image_rect = QRectF(0, 0, size.width(), size.height())
            if self.split and self._right_q is not None:
                cut = self.split_x()
                self._draw(painter, self._left_q, image_rect, QRectF(0, 0, cut, self.height()))
                self._draw(painter, self._right_q, image_rect, QRectF(cut, 0, self.width() - cut, self.height()))
                painter.setPen(QPen(QColor(255, 255, 255, 220), 2))
                painter.drawLine(QPointF(cut, 0), QPointF(cut, self.height()))
                painter.setBrush(QColor(255, 255, 255, 220))
                painter.drawEllipse(QPointF(cut, self.height() / 2), 7, 7)
                self._caption(painter, self.caption_left, cut - 8, Qt.AlignmentFlag.AlignRight)
                self._caption(painter, self.caption_right, cut + 8, Qt.AlignmentFlag.AlignLeft)
            else:
                self._draw(painter, self._left_q, image_rect, QRectF(self.rect()))
                self._caption(painter, self.caption_left, 8, Qt.AlignmentFlag.AlignLeft)
        if self.message:
            painter.setPen(QColor("#f0f0f0"))
            box = QRectF(self.rect()).adjusted(24, 24, -24, -24)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            if self._left_q is not None:  # over an image: on a dark band so it stays readable
                bounds = painter.boundingRect(box, flags, self.message).adjusted(-10, -6, 10, 6)
                painter.fillRect(bounds, QColor(0, 0, 0, 170))
            painter.drawText(box, flags, self.message)
        painter.end()

    def _draw(self, painter: QPainter, image: QImage, image_rect: QRectF, clip: QRectF) -> None:
        visible = QRectF(self.to_image(clip.topLeft()), self.to_image(clip.bottomRight())).intersected(image_rect)
        if visible.isEmpty():
            return
        # whole source pixels, so that the scaled blit lands exactly on the pixel grid
        source = QRectF(math.floor(visible.left()), math.floor(visible.top()), 0, 0)
        source.setRight(min(math.ceil(visible.right()), image_rect.right()))
        source.setBottom(min(math.ceil(visible.bottom()), image_rect.bottom()))
        target = QRectF(self.to_widget(source.topLeft()), self.to_widget(source.bottomRight()))
        painter.save()
        painter.setClipRect(clip)
        painter.drawImage(target, image, source)
        painter.restore()

    def _caption(self, painter: QPainter, text: str, x: float, align: Qt.AlignmentFlag) -> None:
        if not text:
            return
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 12
        left = x - width if align == Qt.AlignmentFlag.AlignRight else x
        rect = QRectF(left, 8, width, metrics.height() + 6)
        painter.fillRect(rect, QColor(0, 0, 0, 160))
        painter.setPen(QColor("#f0f0f0"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    # -- input -----------------------------------------------------------------------------
    def _near_split(self, point: QPointF) -> bool:
        return self.split and self.right is not None and abs(point.x() - self.split_x()) <= SPLIT_GRAB_PX

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Drag the split line when grabbed near it, else pan."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = "split" if self._near_split(event.position()) else "pan"
            self._last = event.position()
            self.setFocus()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Pan or move the split; the cursor says which a press would do."""
        point = event.position()
        if self._drag == "split":
            width = self.image_size().width()
            if width:
                self.set_split(self.to_image(point).x() / width)
        elif self._drag == "pan":
            delta = (point - self._last) / self.state.scale
            self.state.set(self.state.scale, self.state.centre - delta)
            self._last = point
        shape = Qt.CursorShape.SplitHCursor if self._near_split(point) or self._drag == "split" else (
            Qt.CursorShape.ClosedHandCursor if self._drag == "pan" else Qt.CursorShape.OpenHandCursor)
        self.setCursor(shape)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """End a drag."""
        self._drag = ""

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click: fit the image; again at fit: 1:1 at that point."""
        if self.state.fit:
            self.zoom_by(1.0 / self.state.scale, event.position())
        else:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Zoom around the cursor."""
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP**steps, event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """+ / − zoom, 0 fits, 1 shows actual pixels, arrows pan."""
        key, text = event.key(), event.text()
        if text in ("+", "="):
            self.zoom_by(ZOOM_STEP)
        elif text == "-":
            self.zoom_by(1 / ZOOM_STEP)
        elif text == "0":
            self.fit()
        elif text == "1":
            self.actual_size()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = 60 / self.state.scale
            dx = {Qt.Key.Key_Left: -step, Qt.Key.Key_Right: step}.get(key, 0.0)  # type: ignore[call-overload]
            dy = {Qt.Key.Key_Up: -step, Qt.Key.Key_Down: step}.get(key, 0.0)  # type: ignore[call-overload]
            self.state.set(self.state.scale, self.state.centre + QPointF(dx, dy))
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """At fit, stay fitted."""
        super().resizeEvent(event)
        if self.state.fit and self.left is not None:
            self.fit()
