"""RunsPanel: the run table with its filters (date, architecture) and the actions on the selected run."""

from __future__ import annotations

import math

from PySide6.QtCore import QPoint, Signal
from PySide6.QtWidgets import QComboBox, QMenu, QPushButton, QVBoxLayout, QWidget

from denoise_gui.train.run_table import DAY_S, RunTable
from denoise_gui.widgets.flow_layout import FlowLayout
from nnkit.denoise.config import ARCHS

DATE_FILTERS = (("All dates", math.inf), ("Today", DAY_S), ("Last 7 days", 7 * DAY_S), ("Last 30 days", 30 * DAY_S))
# (action name, menu text, needs a checkpoint)
RUN_ACTIONS = (
    ("denoise", "Denoise with this run", True),
    ("train_from", "Train from this checkpoint…", True),
    ("copy_settings", "Copy its settings to the form", False),
    ("export_csv", "Export metrics as CSV…", False),
    ("reveal", "Reveal on disk", False),
    ("delete", "Delete run…", False),
)


class RunsPanel(QWidget):
    """Filters above the table, action buttons beside them. Emits sigAction(name, run_id)."""

    sigAction = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = RunTable(self)
        self.date_combo = QComboBox(self)
        self.date_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.date_combo.setMinimumContentsLength(8)
        self.date_combo.setObjectName("runsDateFilter")
        for text, _ in DATE_FILTERS:
            self.date_combo.addItem(text)
        self.date_combo.setToolTip("Show the runs started within this time")
        self.arch_combo = QComboBox(self)
        self.arch_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.arch_combo.setMinimumContentsLength(8)
        self.arch_combo.setObjectName("runsArchFilter")
        self.arch_combo.addItem("All models", "")
        for arch in ARCHS:
            self.arch_combo.addItem(arch, arch)
        self.arch_combo.setToolTip("Show the runs of one architecture")
        self.date_combo.currentIndexChanged.connect(self._filter_changed)
        self.arch_combo.currentIndexChanged.connect(self._filter_changed)
        self.export_button = QPushButton("CSV…", self)
        self.export_button.setToolTip("Save the selected run's metrics (every step and epoch) as a CSV file")
        self.reveal_button = QPushButton("Reveal", self)
        self.reveal_button.setToolTip("Open the selected run's folder (config, metrics, checkpoints)")
        self.delete_button = QPushButton("Delete…", self)
        self.delete_button.setToolTip("Delete the selected run's folder, after asking")
        for button, name in ((self.export_button, "export_csv"), (self.reveal_button, "reveal"),
                             (self.delete_button, "delete")):
            button.clicked.connect(lambda _checked=False, n=name: self._emit_for_selection(n))
        bar = FlowLayout()  # wraps when narrow (the window's minimum width)
        bar.addWidget(self.date_combo)
        bar.addWidget(self.arch_combo)
        bar.add_stretch()
        for button in (self.export_button, self.reveal_button, self.delete_button):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.table.sigContextMenu.connect(self._context_menu)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.has_checkpoint = lambda run_id: False
        self.menu: QMenu | None = None
        self._update_buttons()

    def _filter_changed(self) -> None:
        max_age = DATE_FILTERS[max(self.date_combo.currentIndex(), 0)][1]
        self.table.set_filter(max_age, str(self.arch_combo.currentData() or ""))

    def _emit_for_selection(self, name: str) -> None:
        run_id = self.table.selected_run_id()
        if run_id >= 0:
            self.sigAction.emit(name, run_id)

    def _update_buttons(self) -> None:
        selected = self.table.selected_run_id() >= 0
        for button in (self.export_button, self.reveal_button, self.delete_button):
            button.setEnabled(selected)

    def context_menu(self, run_id: int) -> QMenu:
        """The menu of actions on one run."""
        menu = QMenu(self)
        for name, text, needs_checkpoint in RUN_ACTIONS:
            action = menu.addAction(text)
            action.setObjectName(f"runAction_{name}")
            action.setEnabled(not needs_checkpoint or self.has_checkpoint(run_id))
            action.triggered.connect(lambda _checked=False, n=name: self.sigAction.emit(n, run_id))
        return menu

    def _context_menu(self, run_id: int, pos: QPoint) -> None:
        self.menu = self.context_menu(run_id)
        self.menu.popup(pos)
