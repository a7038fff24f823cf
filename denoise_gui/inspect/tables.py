"""The Inspect view's tables: the gradient check (green/red rows) and a Conv2d's unfold/matmul/fold shapes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from nnkit.conv_pipeline import Stage

GOOD, BAD = QColor("#d4edda"), QColor("#f8d7da")  # pale green / pale red, dark text stays readable
GRADCHECK_COLUMNS = ("layer", "vs autograd", "vs numeric", "ok")


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    return item


class GradcheckTable(QTableWidget):
    """One row per GradcheckRow: green when ok, red when not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(GRADCHECK_COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(GRADCHECK_COLUMNS))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setTextElideMode(Qt.TextElideMode.ElideLeft)  # a long name keeps its last, telling part
        for column in range(1, len(GRADCHECK_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def show_rows(self, rows: Sequence[Any]) -> None:
        self.setRowCount(len(rows))
        for index, row in enumerate(rows):
            autograd = "no twin" if math.isnan(row.vs_autograd) else f"{row.vs_autograd:.1e}"
            cells = (row.name, autograd, f"{row.vs_numeric:.1e}", "ok" if row.ok else "WRONG")
            brush = QBrush(GOOD if row.ok else BAD)
            for column, text in enumerate(cells):
                item = _item(text)
                item.setToolTip(f"{row.name} ({row.kind}): vs autograd {autograd}, vs numeric {row.vs_numeric:.2e}")
                item.setBackground(brush)
                item.setForeground(QBrush(QColor("#1b1b1b")))
                self.setItem(index, column, item)

    def colours(self) -> list[str]:
        """The background colour of each row ('#d4edda' green, '#f8d7da' red), for tests."""
        return [item.background().color().name() for r in range(self.rowCount()) if (item := self.item(r, 0))]


class PipelineTable(QTableWidget):
    """The stages of a Conv2d as the course derives it: tensor, shape, how it is made."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["tensor", "shape", "how"])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

    def show_stages(self, stages: Sequence[Stage]) -> None:
        self.setRowCount(len(stages))
        for index, stage in enumerate(stages):
            shape = "×".join(str(s) for s in stage.shape)
            for column, text in enumerate((stage.name, shape, stage.formula)):
                item = _item(text)
                item.setToolTip(f"{stage.name} {shape}: {stage.formula}")
                self.setItem(index, column, item)

    def shapes(self) -> dict[str, str]:
        cells = [(self.item(r, 0), self.item(r, 1)) for r in range(self.rowCount())]
        return {name.text(): shape.text() for name, shape in cells if name is not None and shape is not None}
