"""TrainView: the run form, Start/Pause/Stop, progress, live curves, run table and before/after grid."""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.curves import CurvesPanel
from denoise_gui.preview_grid import PreviewGrid
from denoise_gui.progress_panel import ProgressPanel
from denoise_gui.run_form import RunForm
from denoise_gui.run_table import RunTable, format_duration
from denoise_gui.runs import RunRecord
from denoise_gui.train_worker import TrainerFactory, TrainJob, TrainWorker
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Preview, Started, Step

MESSAGE_STYLES = {"info": "", "ok": "color: #2ca02c;", "error": "color: #d62728; font-weight: bold;"}


class TrainView(QWidget):
    """Everything about training. Emits sigStatus(text), sigRunningChanged(bool), sigRunFinished(RunRecord)."""

    sigStatus = Signal(str)
    sigRunningChanged = Signal(bool)
    sigRunFinished = Signal(object)
    sigConfigStarted = Signal(object)  # RunConfig of a run just started (to remember it)
    sigDevice = Signal(str)  # the device the running trainer actually uses

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
        self.trainer_factory = trainer_factory
        self.runs: dict[int, RunRecord] = {}
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
        scroll.setMinimumWidth(340)

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
        self.resume_check = QCheckBox("Resume from loaded checkpoint", self)
        self.resume_check.setEnabled(False)
        self.resume_check.setToolTip("Load a checkpoint (Ctrl+L) to continue its training")
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addWidget(self.resume_check)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.save_button)

        self.progress = ProgressPanel(self)
        self.message = QLabel("", self)
        self.message.setObjectName("trainMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.curves = CurvesPanel(self)
        self.table = RunTable(self)
        self.grid = PreviewGrid(self)

        bottom = QSplitter(Qt.Orientation.Horizontal, self)
        bottom.addWidget(self.table)
        bottom.addWidget(self.grid)
        bottom.setSizes([520, 480])
        right_split = QSplitter(Qt.Orientation.Vertical, self)
        right_split.addWidget(self.curves)
        right_split.addWidget(bottom)
        right_split.setSizes([330, 300])
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
        split.setSizes([360, 920])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)

        self.form.sigChanged.connect(self._form_changed)
        self.table.sigRunChosen.connect(self._run_chosen)
        self.table.sigVisibilityChanged.connect(self._visibility_changed)
        self.setTabOrder(self.start_button, self.pause_button)
        self.setTabOrder(self.pause_button, self.stop_button)
        self._update_buttons()

    # -- state -------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """Whether a run is in progress (its thread still going)."""
        return self.job is not None

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running and self.form.is_valid())
        self.pause_button.setEnabled(running)
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

    # -- actions -----------------------------------------------------------------------------
    def start(self) -> bool:
        """Start a run with the form's configuration; False (and why, in the form) if it cannot."""
        if self.is_running():
            return False
        config, error = self.form.try_config()
        if config is None:
            self.show_message(f"Cannot start: {error}", "error")
            return False
        run = RunRecord(self._next_id, config)
        self._next_id += 1
        self.runs[run.run_id] = run
        self.current = run
        resume = self.resume_checkpoint if self.resume_check.isChecked() else None
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        worker = TrainWorker(
            config,
            checkpoint_path=self.runs_dir / f"run-{run.run_id:03d}.safetensors",
            resume_from=resume,
            factory=self.trainer_factory,
        )
        self.job = job = TrainJob(worker, self)
        job.sigStarted.connect(self._on_started)
        job.sigStep.connect(self._on_steps)
        job.sigEpoch.connect(self._on_epoch)
        job.sigPreview.connect(self._on_preview)
        job.sigSaved.connect(self._on_saved)
        job.sigFinished.connect(self._on_finished)
        self.table.update_run(run)
        self.curves.update_run(run)
        self.progress.start(config.epochs)
        self.show_message(f"Run {run.run_id} starting: {run.describe_changes()}")
        self.sigConfigStarted.emit(config)
        self.job.start()
        self._update_buttons()
        self.sigRunningChanged.emit(True)
        return True

    def toggle_pause(self) -> None:
        """Pause a running run, or resume a paused one."""
        if self.job is None or self.current is None:
            return
        if self.job.paused:
            self.job.resume()
            self.current.status = "running"
            self.show_message(f"Run {self.current.run_id} resumed")
        else:
            self.job.pause()
            self.current.status = "paused"
            self.show_message(f"Run {self.current.run_id} paused (Ctrl+P to resume)")
        self.table.update_run(self.current)
        self._update_buttons()

    def stop(self) -> None:
        """Ask the run to stop after its current step."""
        if self.job is not None and self.current is not None:
            self.job.stop()
            self.current.status = "stopping"
            self.table.update_run(self.current)
            self.show_message(f"Stopping run {self.current.run_id}…")
            self._update_buttons()

    def save_checkpoint(self, path: str | Path) -> bool:
        """Save the running run's weights (by the worker), or copy the selected/last run's checkpoint."""
        path = Path(path)
        if self.job is not None:
            self.job.worker.request_save(path)
            when = "when the run resumes" if self.job.paused else "after the current step"
            self.show_message(f"Saving a checkpoint to {path} {when}…")
            return True
        run = self.selected_run() or self.last_run_with_checkpoint()
        if run is None or not run.checkpoint or not Path(run.checkpoint).exists():
            self.show_message("No checkpoint to save yet: train a run first", "error")
            return False
        tmp = path.with_name(path.name + ".tmp")
        shutil.copyfile(run.checkpoint, tmp)
        os.replace(tmp, path)
        self.show_message(f"Run {run.run_id}'s checkpoint saved to {path}", "ok")
        return True

    def set_resume_checkpoint(self, checkpoint: Any, path: str) -> None:
        """A loaded checkpoint: show its configuration and offer to resume from it."""
        self.resume_checkpoint = checkpoint
        epoch = getattr(checkpoint, "epoch", 0)
        self.resume_check.setText(f"Resume from {Path(path).name} (epoch {epoch})")
        config = getattr(checkpoint, "config", None)
        if isinstance(config, RunConfig) and not self.is_running():
            self.form.set_config(config)
        self._update_buttons()

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop a run and wait for its thread; True when no thread is left running."""
        job = self.job
        if job is not None:
            job.stop()
        return all(j.wait(timeout_ms) for j in [*([job] if job else []), *self._ending])

    def _prune_ended(self) -> None:
        self._ending = [j for j in self._ending if not j.qthread.isFinished()]

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a training thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)

    # -- runs --------------------------------------------------------------------------------
    def selected_run(self) -> RunRecord | None:
        """The run selected in the table, if any."""
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        return self.runs.get(self.table.run_id_at(rows.pop()))

    def last_run_with_checkpoint(self) -> RunRecord | None:
        """The most recent run that wrote a checkpoint."""
        for run_id in sorted(self.runs, reverse=True):
            if self.runs[run_id].checkpoint:
                return self.runs[run_id]
        return None

    def _run_chosen(self, run_id: int) -> None:
        run = self.runs.get(run_id)
        if run is not None and not self.is_running():
            self.form.set_config(run.config)
            self.sigStatus.emit(f"Run {run_id}'s configuration loaded into the form")

    def _visibility_changed(self, run_id: int, visible: bool) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.visible = visible
            self.curves.set_run_visible(run, visible)

    # -- worker signals (GUI thread) ------------------------------------------------------------
    def _on_started(self, event: Started) -> None:
        if self.current is None:
            return
        self.current.on_started(event)
        self.progress.on_started(event)
        self.grid.set_noisy_psnr(event.noisy_psnr)
        self.sigDevice.emit(event.device)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)
        self.show_message(
            f"Run {self.current.run_id} on {event.device}: {event.num_parameters:,} parameters, "
            f"{event.train_size} training crops, {event.val_size} validation images, "
            f"noisy input {event.noisy_psnr:.2f} dB"
        )

    def _on_steps(self, events: tuple[Step, ...]) -> None:
        if self.current is None:
            return
        self.current.on_steps(events)
        self.progress.on_steps(events)
        self.curves.update_run(self.current)

    def _on_epoch(self, event: Epoch) -> None:
        if self.current is None:
            return
        self.current.on_epoch(event)
        self.progress.on_epoch(event)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)

    def _on_preview(self, event: Preview) -> None:
        self.grid.show_preview(event)

    def _on_saved(self, path: str, error: str) -> None:
        if error:
            self.show_message(f"Could not save {path}: {error}", "error")
        else:
            self.show_message(f"Checkpoint saved to {path}", "ok")

    def _on_finished(self, event: Finished) -> None:
        run, job = self.current, self.job
        if job is not None:
            self._ending.append(job)  # its thread is quitting: never wait for it on the GUI thread
            job.qthread.finished.connect(self._prune_ended)  # queued to the GUI thread
            job.release()
        self.job = None
        if run is None:
            return
        run.on_finished(event)
        self.curves.update_run(run)
        self.table.update_run(run)
        best = f"best {run.best_psnr:.2f} dB" if math.isfinite(run.best_psnr) else "no validation yet"
        saved = f"; checkpoint {event.checkpoint}" if event.checkpoint else ""
        took = format_duration(run.elapsed_s)
        if event.reason == "done":
            self.show_message(f"Run {run.run_id} finished in {took}: {best}{saved}", "ok")
        elif event.reason == "stopped":
            self.show_message(f"Run {run.run_id} stopped after {took}: {best}{saved}")
        elif event.reason == "diverged":
            self.show_message(f"Run {run.run_id} diverged: {event.message}{saved}", "error")
        else:
            self.show_message(f"Run {run.run_id} failed: {event.message}", "error")
        self.progress.finish(f"Run {run.run_id}: {event.reason} after {took}, {best}")
        self._update_buttons()
        self.sigRunningChanged.emit(False)
        self.sigRunFinished.emit(run)
