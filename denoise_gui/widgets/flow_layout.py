"""FlowLayout: a row of widgets that wraps onto more lines when the space is narrow (Qt's flow layout example).

A row of buttons in a QHBoxLayout is as wide as all its buttons together, and that sum becomes the
window's minimum width (1881 px at QT_SCALE_FACTOR=1.5). Wrapped, a row needs only its widest item.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Items left to right, wrapped at the right edge; ``add_stretch()`` pushes the items after it to the right
    end of their line (as a QHBoxLayout's stretch does) while everything fits on one line."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretch_at: int | None = None  # index of the first item pushed right
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def add_stretch(self) -> None:
        """The items added after this go to the right end while the row is on one line."""
        self._stretch_at = len(self._items)

    # -- QLayout -------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        if self._stretch_at is not None and index < self._stretch_at:
            self._stretch_at -= 1
        return self._items.pop(index)

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        width = sum(self._hint(item).width() for item in self._visible())
        width += self._spacing * max(len(self._visible()) - 1, 0)
        height = max((self._hint(item).height() for item in self._visible()), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        """The widest item: narrower than that, nothing can wrap any more."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        return size.grownBy(self.contentsMargins())

    # -- arranging -----------------------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if (widget := item.widget()) is None or not widget.isHidden()]

    @staticmethod
    def _hint(item: QLayoutItem) -> QSize:
        return item.sizeHint().expandedTo(item.minimumSize())

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Lay the items out in ``rect`` (when ``move``); the height they take."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        lines: list[list[QLayoutItem]] = [[]]
        x = 0
        for item in self._visible():
            width = self._hint(item).width()
            if lines[-1] and x + width > area.width():
                lines.append([])
                x = 0
            lines[-1].append(item)
            x += width + self._spacing
        y = area.y()
        pushed = {id(item) for item in self._items[self._stretch_at:]} if self._stretch_at is not None else set()
        for line in lines:
            height = max((self._hint(item).height() for item in line), default=0)
            used = sum(self._hint(item).width() for item in line) + self._spacing * max(len(line) - 1, 0)
            gap = max(area.width() - used, 0) if len(lines) == 1 else 0  # the stretch, on a single line only
            x = area.x()
            for item in line:
                hint = self._hint(item)
                if id(item) in pushed and gap:
                    x, gap = x + gap, 0
                if move:
                    top = y + (height - hint.height()) // 2
                    item.setGeometry(QRect(QPoint(x, top), QSize(min(hint.width(), area.width()), hint.height())))
                x += hint.width() + self._spacing
            y += height + self._spacing
        return y - self._spacing - area.y() + margins.top() + margins.bottom() if self._visible() else 0

