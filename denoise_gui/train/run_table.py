"""RunTable: every run of the library, sortable and filterable; a checkbox shows a run's curves.

Choosing a row only selects it: what to do with the run (denoise with it, train from its
checkpoint, copy its settings to the form, export, reveal, delete) is an explicit action of the
row's context menu or of the buttons above the table (see runs_panel.RunsPanel).
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets.durations import format_duration

COLUMNS = ("Show", "Run", "When", "Changes", "Best", "Time", "Status")
SHOW, RUN, WHEN, CHANGES, BEST, TIME, STATUS = range(len(COLUMNS))
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
DAY_S = 86_400.0


def format_when(started: float, now: float | None = None) -> str:
    """'14:05' today, else '2026-11-30 14:05'."""
    now = time.time() if now is None else now
    local, today = time.localtime(started), time.localtime(now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M", local)


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
    """One row per run. Emits sigVisibilityChanged(run_id, visible), sigContextMenu(run_id, global pos)."""

    sigRunChosen = Signal(int)  # a row became the single selection
    sigRunActivated = Signal(int)  # a row was double-clicked
    sigVisibilityChanged = Signal(int, bool)
    sigContextMenu = Signal(int, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(True)
        self.sortByColumn(RUN, Qt.SortOrder.AscendingOrder)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(CHANGES, QHeaderView.ResizeMode.Stretch)
        for column, tip in ((BEST, "Best validation PSNR of the run"),
                            (CHANGES, "The run's settings that differ from the defaults")):
            header_item = self.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        self.setMinimumWidth(180)  # scrolls sideways rather than squeezing the plots (the window fits 1366 px at 150%)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.itemChanged.connect(self._item_changed)
        self.itemSelectionChanged.connect(self._selection_changed)
        self.cellDoubleClicked.connect(lambda row, _column: self.sigRunActivated.emit(self.run_id_at(row)))
        self._updating = False
        self.max_age_s = math.inf
        self.arch = ""
        self._meta: dict[int, tuple[float, str]] = {}  # run_id: (started, arch), for the filters

    def _row_of(self, run_id: int) -> int:
        for row in range(self.rowCount()):
            item = self.item(row, RUN)
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
                self.setItem(row, SHOW, show)
            number = _NumberItem(run.label, run.number or run.run_id)
            number.setData(RUN_ID_ROLE, run.run_id)
            number.setForeground(QColor(run.colour))
            number.setToolTip(run.folder or run.label)
            self.setItem(row, RUN, number)
            when = _NumberItem(format_when(run.started_wall), run.started_wall)
            when.setToolTip(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.started_wall)))
            self.setItem(row, WHEN, when)
            changes = QTableWidgetItem(run.describe_changes())
            changes.setToolTip(run.describe_changes())
            self.setItem(row, CHANGES, changes)
            best = f"{run.best_psnr:.2f} dB" if math.isfinite(run.best_psnr) else "–"
            self.setItem(row, BEST, _NumberItem(best, run.best_psnr))
            self.setItem(row, TIME, _NumberItem(format_duration(run.elapsed_s), run.elapsed_s))
            status = QTableWidgetItem(run.status)
            status.setToolTip(run.message or run.status)
            self.setItem(row, STATUS, status)
            self._meta[run.run_id] = (run.started_wall, run.config.arch)
        finally:
            self.setSortingEnabled(sorting)
            self._updating = False
        self._apply_filter_to(row if not sorting else self._row_of(run.run_id))

    def remove_run(self, run_id: int) -> None:
        """Drop the run's row."""
        row = self._row_of(run_id)
        if row >= 0:
            self.removeRow(row)
        self._meta.pop(run_id, None)

    # -- filters -----------------------------------------------------------------------------
    def set_filter(self, max_age_s: float = math.inf, arch: str = "") -> None:
        """Show only runs started within ``max_age_s`` seconds and (if given) of architecture ``arch``."""
        self.max_age_s, self.arch = max_age_s, arch
        for row in range(self.rowCount()):
            self._apply_filter_to(row)

    def _apply_filter_to(self, row: int) -> None:
        if row < 0:
            return
        started, arch = self._meta.get(self.run_id_at(row), (time.time(), ""))
        keep = time.time() - started <= self.max_age_s and (not self.arch or arch == self.arch)
        self.setRowHidden(row, not keep)

    def shown_run_ids(self) -> list[int]:
        """Runs whose rows pass the filters, in table order."""
        return [self.run_id_at(row) for row in range(self.rowCount()) if not self.isRowHidden(row)]

    # -- reading -----------------------------------------------------------------------------
    def run_id_at(self, row: int) -> int:
        """The run shown in ``row``."""
        item = self.item(row, RUN)
        return int(item.data(RUN_ID_ROLE)) if item is not None else -1

    def row_of(self, run_id: int) -> int:
        """The row showing the run (-1 if none)."""
        return self._row_of(run_id)

    def cell_text(self, row: int, column: int) -> str:
        """Text shown in a cell ('' when empty)."""
        item = self.item(row, column)
        return item.text() if item is not None else ""

    def is_shown(self, run_id: int) -> bool:
        """Whether the run's 'Show' box is ticked."""
        item = self.item(self._row_of(run_id), SHOW)
        return item is not None and item.checkState() == Qt.CheckState.Checked

    def set_shown(self, run_id: int, shown: bool) -> None:
        """Tick or untick the run's 'Show' box (emits sigVisibilityChanged)."""
        item = self.item(self._row_of(run_id), SHOW)
        if item is not None:
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def select_run(self, run_id: int) -> None:
        """Select the run's row."""
        row = self._row_of(run_id)
        if row >= 0:
            self.selectRow(row)

    def selected_run_id(self) -> int:
        """The selected run (-1 if none)."""
        rows = {index.row() for index in self.selectedIndexes()}
        return self.run_id_at(rows.pop()) if len(rows) == 1 else -1

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating or item.column() != SHOW:
            return
        self.sigVisibilityChanged.emit(self.run_id_at(item.row()), item.checkState() == Qt.CheckState.Checked)

    def _selection_changed(self) -> None:
        run_id = self.selected_run_id()
        if run_id >= 0:
            self.sigRunChosen.emit(run_id)

    def _context_menu(self, pos: QPoint) -> None:
        row = self.rowAt(pos.y())
        if row >= 0:
            self.selectRow(row)
            self.sigContextMenu.emit(self.run_id_at(row), self.viewport().mapToGlobal(pos))
