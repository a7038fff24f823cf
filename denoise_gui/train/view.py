"""TrainView: the run form, Start/Pause/Stop, progress, live curves, the runs library's table and the
before/after grid. Every run is kept in the RunLibrary (run_library.py): the table lists past runs
on launch, and a run's folder holds its config, metrics and checkpoints.

This file builds the widgets and keeps the buttons in step; its parts live beside it: the runs
library and the table's actions (library_actions.py), Start/Pause/Stop and checkpoints
(run_control.py), and the running trainer's signals into records and metrics (run_events.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.threads.train_worker import TrainerFactory, TrainJob
from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.library_actions import LibraryMixin
from denoise_gui.train.parallel_runs import PARALLEL_NO_PAUSE, processes_spin_box
from denoise_gui.train.preview_grid import PreviewGrid
from denoise_gui.train.progress_panel import ProgressPanel
from denoise_gui.train.run_control import RunControlMixin
from denoise_gui.train.run_events import RunEventsMixin
from denoise_gui.train.run_form import RunForm
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.runs import RunRecord
from denoise_gui.train.runs_panel import RunsPanel
from denoise_gui.widgets.dialogs import Dialogs
from denoise_gui.widgets.flow_layout import FlowLayout
from nnkit.denoise.config import RunConfig

MESSAGE_STYLES = {"info": "", "ok": "color: #2ca02c;", "error": "color: #d62728; font-weight: bold;"}


class TrainView(LibraryMixin, RunControlMixin, RunEventsMixin, QWidget):
    """Everything about training. Emits sigStatus(text), sigRunningChanged(bool), sigRunFinished(RunRecord)."""

    sigStatus = Signal(str)
    sigRunningChanged = Signal(bool)
    sigRunFinished = Signal(object)
    sigConfigStarted = Signal(object)  # RunConfig of a run just started (to remember it)
    sigDevice = Signal(str)  # the device the running trainer actually uses
    sigDenoiseWith = Signal(str)  # a run's checkpoint chosen for the Denoise view
    sigJobStarted = Signal(object)  # the TrainJob of a run just started (the Inspect view follows it)

    def __init__(
        self,
        runs_dir: Path,
        config: RunConfig | None = None,
        *,
        trainer_factory: TrainerFactory | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runs_dir = Path(runs_dir)
        self.library = RunLibrary(self.runs_dir)
        self.dialogs = Dialogs(self)
        self.trainer_factory = trainer_factory
        self.runs: dict[int, RunRecord] = {}
        self._table_refreshed = 0.0
        self.job: TrainJob | None = None
        self._ending: list[TrainJob] = []  # finished jobs whose threads are still winding down
        self.current: RunRecord | None = None
        self.resume_checkpoint: Any = None
        self._next_id = 1

        self.form = RunForm(config, self)
        scroll = QScrollArea(self)
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the whole form in view: its two columns side by side, no horizontal scrolling
        scroll.setMinimumWidth(self.form.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

        self.start_button = QPushButton("Start", self)
        self.start_button.setToolTip("Start a run with this configuration (Ctrl+R)")
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Pause or resume the run (Ctrl+P)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the run; its checkpoint is still saved (Ctrl+. or Esc)")
        self.save_button = QPushButton("Save checkpoint…", self)
        self.save_button.setToolTip("Save the current or selected run's weights (Ctrl+Shift+S)")
        self.use_button = QPushButton("Denoise with it", self)
        self.use_button.setToolTip("Use the selected (or last) run's checkpoint in the Denoise view (Ctrl+U)")
        self.resume_check = QCheckBox("Continue a checkpoint", self)
        self.resume_check.setEnabled(False)
        self.resume_check.setToolTip("File → Train from a checkpoint… (or a run's context menu) continues its training")
        self.processes = processes_spin_box(self)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = FlowLayout()  # wraps when narrow: a row's full width would be the window's minimum
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addWidget(self.resume_check)
        buttons.addWidget(self.processes)
        buttons.add_stretch()
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.save_button)

        self.progress = ProgressPanel(self)
        self.message = QLabel("", self)
        self.message.setObjectName("trainMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.curves = CurvesPanel(self)
        self.runs_panel = RunsPanel(self)
        self.table = self.runs_panel.table
        self.runs_panel.has_checkpoint = lambda run_id: bool(run_id in self.runs and self.runs[run_id].checkpoint)
        self.grid = PreviewGrid(self)

        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.addWidget(self.runs_panel)
        bottom.addWidget(self.grid)
        bottom.setSizes([440, 380])
        right_split = QSplitter(Qt.Orientation.Vertical, self)
        right_split.addWidget(self.curves)
        right_split.addWidget(bottom)
        right_split.setSizes([300, 330])
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.message)
        right_layout.addWidget(right_split, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        form_layout = self.form.layout()
        if form_layout is not None:  # the reason a value is invalid stays in sight, below the scrolling form
            form_layout.removeWidget(self.form.error_label)
        left_layout.addWidget(self.form.error_label)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([scroll.minimumWidth(), 1280 - scroll.minimumWidth()])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        self.form.sigChanged.connect(self._form_changed)
        self.table.sigRunActivated.connect(lambda run_id: self.run_action("copy_settings", run_id))
        self.table.sigVisibilityChanged.connect(self._visibility_changed)
        self.runs_panel.sigAction.connect(self.run_action)
        self.curves.export_button.clicked.connect(lambda _checked=False: self.export_plots())
        self.setTabOrder(self.start_button, self.pause_button)
        self.setTabOrder(self.pause_button, self.stop_button)
        self._load_library()
        self._update_buttons()

    # -- state -------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """Whether a run is in progress (its thread still going)."""
        return self.job is not None

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running and self.form.is_valid())
        parallel = running and self.job is not None and self.job.worker.parallel
        self.pause_button.setEnabled(running and not parallel)
        self.pause_button.setToolTip(PARALLEL_NO_PAUSE if parallel else "Pause or resume the run (Ctrl+P)")
        self.processes.setEnabled(not running and self.processes.maximum() > 1)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if running and self.job is not None and self.job.paused else "Pause")
        self.form.setEnabled(not running)
        self.resume_check.setEnabled(not running and self.resume_checkpoint is not None)
        self.use_button.setEnabled(self.last_run_with_checkpoint() is not None)

    def _form_changed(self, config: RunConfig | None) -> None:
        self._update_buttons()

    def show_message(self, text: str, kind: str = "info") -> None:
        """Show a message above the plots (and in the status bar)."""
        self.message.setText(text)
        self.message.setStyleSheet(MESSAGE_STYLES.get(kind, ""))
        self.sigStatus.emit(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a training thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)
