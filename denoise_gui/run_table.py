"""RunTable: the session's runs, sortable; a checkbox hides a run's curves; choosing a run picks it."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from denoise_gui.runs import RunRecord
from nnkit.denoise import progress

COLUMNS = ("Show", "Run", "Differs from defaults", "Best PSNR", "Time", "Status")
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def format_duration(seconds: float) -> str:
    """'1:05' or '1:02:03' (or '–' when unknown), as the CLI writes durations."""
    return progress.format_duration(seconds, unknown="–")


class _NumberItem(QTableWidgetItem):
    """An item that sorts by a number, shown as text."""

    def __init__(self, text: str, number: float) -> None:
        super().__init__(text)
        self.number = number

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _NumberItem):
            mine = self.number if math.isfinite(self.number) else -math.inf
            theirs = other.number if math.isfinite(other.number) else -math.inf
            return mine < theirs
        return super().__lt__(other)


class RunTable(QTableWidget):
    """One row per run. Emits sigRunChosen(run_id) and sigVisibilityChanged(run_id, visible)."""

    sigRunChosen = Signal(int)
    sigVisibilityChanged = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(True)
        self.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.itemChanged.connect(self._item_changed)
        self.itemSelectionChanged.connect(self._selection_changed)
        self._updating = False

    def _row_of(self, run_id: int) -> int:
        for row in range(self.rowCount()):
            item = self.item(row, 1)
            if item is not None and item.data(RUN_ID_ROLE) == run_id:
                return row
        return -1

    def update_run(self, run: RunRecord) -> None:
        """Add or refresh the run's row."""
        self._updating = True
        sorting = self.isSortingEnabled()
        self.setSortingEnabled(False)
        try:
            row = self._row_of(run.run_id)
            if row < 0:
                row = self.rowCount()
                self.insertRow(row)
                show = QTableWidgetItem()
                flags = Qt.ItemFlag
                show.setFlags(flags.ItemIsUserCheckable | flags.ItemIsEnabled | flags.ItemIsSelectable)
                show.setCheckState(Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked)
                show.setToolTip("Show this run's curves")
                self.setItem(row, 0, show)
            number = _NumberItem(str(run.run_id), run.run_id)
            number.setData(RUN_ID_ROLE, run.run_id)
            number.setForeground(QColor(run.colour))
            self.setItem(row, 1, number)
            changes = QTableWidgetItem(run.describe_changes())
            changes.setToolTip(run.describe_changes())
            self.setItem(row, 2, changes)
            best = f"{run.best_psnr:.2f} dB" if math.isfinite(run.best_psnr) else "–"
            self.setItem(row, 3, _NumberItem(best, run.best_psnr))
            self.setItem(row, 4, _NumberItem(format_duration(run.elapsed_s), run.elapsed_s))
            status = QTableWidgetItem(run.status)
            status.setToolTip(run.message or run.status)
            self.setItem(row, 5, status)
        finally:
            self.setSortingEnabled(sorting)
            self._updating = False

    def run_id_at(self, row: int) -> int:
        """The run shown in ``row``."""
        item = self.item(row, 1)
        return int(item.data(RUN_ID_ROLE)) if item is not None else -1

    def cell_text(self, row: int, column: int) -> str:
        """Text shown in a cell ('' when empty)."""
        item = self.item(row, column)
        return item.text() if item is not None else ""

    def is_shown(self, run_id: int) -> bool:
        """Whether the run's 'Show' box is ticked."""
        item = self.item(self._row_of(run_id), 0)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_shown(self, run_id: int, shown: bool) -> None:
        """Tick or untick the run's 'Show' box (emits sigVisibilityChanged)."""
        item = self.item(self._row_of(run_id), 0)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def select_run(self, run_id: int) -> None:
        """Select the run's row (emits sigRunChosen)."""
        row = self._row_of(run_id)
        if row >= 0:
            self.selectRow(row)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating or item.column() != 0:
            return
        self.sigVisibilityChanged.emit(self.run_id_at(item.row()), item.checkState() == Qt.CheckState.Checked)

    def _selection_changed(self) -> None:
        rows = {index.row() for index in self.selectedIndexes()}
        if len(rows) == 1:
            self.sigRunChosen.emit(self.run_id_at(rows.pop()))
