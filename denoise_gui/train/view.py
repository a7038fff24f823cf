"""TrainView: the run form, Start/Pause/Stop, progress, live curves, the runs library's table and the
before/after grid. Every run is kept in the RunLibrary (run_library.py): the table lists past runs
on launch, and a run's folder holds its config, metrics and checkpoints."""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time
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

from denoise_gui.threads.train_worker import TrainerFactory, TrainJob, TrainWorker
from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.parallel_runs import PARALLEL_NO_PAUSE, parallel_factory, parallel_problem, processes_spin_box
from denoise_gui.train.preview_grid import PreviewGrid
from denoise_gui.train.progress_panel import ProgressPanel
from denoise_gui.train.run_form import RunForm
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.runs import RunRecord
from denoise_gui.train.runs_panel import RunsPanel
from denoise_gui.widgets.dialogs import Dialogs
from denoise_gui.widgets.durations import format_duration
from denoise_gui.widgets.flow_layout import FlowLayout
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, LayerStats, Lockstep, Preview, Started, Step
from nnkit.layer_stats import as_record

MESSAGE_STYLES = {"info": "", "ok": "color: #2ca02c;", "error": "color: #d62728; font-weight: bold;"}
TABLE_REFRESH_S = 1.0  # the running run's Time cell is refreshed this often during an epoch


class TrainView(QWidget):
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

    # -- the runs library --------------------------------------------------------------------
    def _load_library(self) -> None:
        """Past runs into the table; the curves of those shown (not hidden) drawn."""
        for run in self.library.list_runs():
            run.run_id = self._next_id
            self._next_id += 1
            run.metrics_loaded = False
            self.runs[run.run_id] = run
            if run.visible:
                self._load_metrics(run)
            self.table.update_run(run)
        if self.library.problems:
            self.show_message("Some run folders could not be read: " + "; ".join(self.library.problems), "error")

    def _load_metrics(self, run: RunRecord) -> None:
        try:
            self.library.load_metrics(run)
        except OSError as exc:
            self.show_message(f"Could not read the metrics of {run.label}: {exc}", "error")
            return
        self.curves.update_run(run)
        self.curves.set_run_visible(run, run.visible)

    def _store(self, run: RunRecord) -> None:
        """Rewrite the run's run.json (atomically, on the library's writer thread); failures are said later."""
        if run.folder:
            self.library.save_soon(run)

    def flush_library(self) -> bool:
        """Wait for the runs library's writes; False (and why) if one failed."""
        errors = self.library.flush()
        if errors:
            self.show_message("Could not update the runs library: " + "; ".join(errors), "error")
        return not errors

    def _append_metrics(self, run: RunRecord, records: list[dict[str, Any]]) -> None:
        if not run.folder:
            return
        try:
            self.library.append_metrics(run, records)
        except OSError as exc:
            self.show_message(f"Could not write the metrics of {run.label}: {exc}", "error")

    def run_action(self, name: str, run_id: int) -> bool:
        """One of the run table's actions on a run (see runs_panel.RUN_ACTIONS); False if it did nothing."""
        run = self.runs.get(run_id)
        if run is None:
            return False
        if name == "denoise":
            if not run.checkpoint:
                self.show_message(f"{run.label} has no checkpoint", "error")
                return False
            self.sigDenoiseWith.emit(run.checkpoint)
            return True
        if name == "train_from":
            return self.train_from_path(run.checkpoint or "")
        if name == "copy_settings":
            if self.is_running():
                return False
            self.form.set_config(run.config)
            self.show_message(f"{run.label}'s settings copied to the form")
            return True
        if name == "export_csv":
            return self.export_csv(run) is not None
        if name == "reveal":
            return bool(run.folder) and self.dialogs.reveal(Path(run.folder))
        if name == "delete":
            return self.delete_run(run)
        raise ValueError(f"unknown run action {name!r}")

    def export_csv(self, run: RunRecord, path: str | Path | None = None) -> Path | None:
        """Write the run's metrics as CSV (asks where when ``path`` is None)."""
        if path is None:
            default = str(Path.home() / f"{run.label.replace(' ', '-')}-metrics.csv")
            path = self.dialogs.save_path(f"Export {run.label}'s metrics", default, "CSV (*.csv)")
            if not path:
                return None
        try:
            written = self.library.export_csv(run, Path(path))
        except OSError as exc:
            self.show_message(f"Could not export {run.label}'s metrics to {path}: {exc}", "error")
            return None
        self.show_message(f"{run.label}'s metrics written to {written}", "ok")
        return written

    def export_plots(self, path: str | Path | None = None) -> Path | None:
        """Save the plots as shown, PNG or SVG by the name's suffix (asks where when ``path`` is None)."""
        if path is None:
            default = str(Path.home() / "training-curves.png")
            path = self.dialogs.save_path("Export plots", default, "PNG image (*.png);;SVG drawing (*.svg)")
            if not path:
                return None
        try:
            written = self.curves.export_image(path)
        except OSError as exc:
            self.show_message(f"Could not export the plots: {exc}", "error")
            return None
        self.show_message(f"Plots written to {written}", "ok")
        return written

    def delete_run(self, run: RunRecord) -> bool:
        """Delete a finished run's folder after the user confirmed; False if kept."""
        if run.running:
            self.show_message(f"{run.label} is still running: stop it first", "error")
            return False
        where = f"\n\n{run.folder}" if run.folder else ""
        if not self.dialogs.confirm("Delete run", f"Delete {run.label} with its checkpoints and metrics?{where}"):
            return False
        self.flush_library()  # no write of its run.json still on the way
        try:
            if run.folder:
                self.library.delete(run)
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not delete {run.label}: {exc}", "error")
            return False
        del self.runs[run.run_id]
        self.table.remove_run(run.run_id)
        self.curves.remove_run(run)
        self.show_message(f"{run.label} deleted")
        self._update_buttons()
        return True

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

    # -- actions -----------------------------------------------------------------------------
    def start(self) -> bool:
        """Start a run with the form's configuration; False (and why, in the form) if it cannot."""
        if self.is_running():
            return False
        config, error = self.form.try_config()
        if config is None:
            self.show_message(f"Cannot start: {error}", "error")
            return False
        processes = self.processes.value()
        problem = parallel_problem(config, processes)
        if problem is not None:
            self.show_message(f"Cannot start {processes} processes: {problem}", "error")
            return False
        run = RunRecord(self._next_id, config)
        try:
            self.library.create(run)
        except OSError as exc:
            self.show_message(f"Cannot start: the runs library {self.runs_dir} is not writable ({exc})", "error")
            return False
        self._next_id += 1
        self.runs[run.run_id] = run
        self.current = run
        resume = self.resume_checkpoint if self.resume_check.isChecked() else None
        worker = TrainWorker(
            config,
            checkpoint_path=self.library.checkpoint_path(run),
            resume_from=resume,
            factory=parallel_factory(processes) if processes > 1 else self.trainer_factory,
        )
        self.job = job = TrainJob(worker, self)
        job.sigStarted.connect(self._on_started)
        job.sigStep.connect(self._on_steps)
        job.sigEpoch.connect(self._on_epoch)
        job.sigPreview.connect(self._on_preview)
        job.sigLayerStats.connect(self._on_layer_stats)
        job.sigLockstep.connect(self._on_lockstep)
        job.sigSaved.connect(self._on_saved)
        job.sigFinished.connect(self._on_finished)
        self.table.update_run(run)
        self.curves.update_run(run)
        self.progress.start(config.epochs)
        self.show_message(f"{run.label} starting: {run.describe_changes()}")
        self.sigConfigStarted.emit(config)
        self.sigJobStarted.emit(job)
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
            self.current.resume()
            self.current.status = "running"
            self.show_message(f"{self.current.label} resumed")
        else:
            self.job.pause()
            self.current.pause()
            self.current.status = "paused"
            self.show_message(f"{self.current.label} paused (Ctrl+P to resume)")
        self.table.update_run(self.current)
        self._update_buttons()

    def stop(self) -> None:
        """Ask the run to stop after its current step."""
        if self.job is not None and self.current is not None:
            self.job.stop()
            self.current.status = "stopping"
            self.table.update_run(self.current)
            self.show_message(f"Stopping {self.current.label}…")
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
        if path.exists() and path.resolve() == Path(run.checkpoint).resolve():
            self.show_message(f"{path} is {run.label}'s own checkpoint", "error")
            return False
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            shutil.copyfile(run.checkpoint, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            self.show_message(f"Could not save {path}: {exc}", "error")
            return False
        self.show_message(f"{run.label}'s checkpoint saved to {path}", "ok")
        return True

    def train_from_path(self, path: str | Path) -> bool:
        """Load a checkpoint to continue training it (reads the file; nothing else changes on failure)."""
        if not path:
            self.show_message("No checkpoint to train from", "error")
            return False
        try:
            from nnkit.denoise.checkpoint import load_checkpoint

            checkpoint = load_checkpoint(Path(path))
        except Exception as exc:
            self.show_message(f"Could not load checkpoint {path}: {exc}", "error")
            return False
        return self.train_from_checkpoint(checkpoint, str(path))

    def train_from_checkpoint(self, checkpoint: Any, path: str) -> bool:
        """The explicit "Train from this checkpoint": its settings go into the form, Start continues it."""
        if self.is_running():
            self.show_message("Stop the current run before training from a checkpoint", "error")
            return False
        self.resume_checkpoint = checkpoint
        epoch = getattr(checkpoint, "epoch", 0)
        self.resume_check.setText(f"Continue {Path(path).name} (epoch {epoch})")
        self.resume_check.setToolTip(f"Start continues training {path} from epoch {epoch}; untick to start afresh")
        config = getattr(checkpoint, "config", None)
        if isinstance(config, RunConfig):
            self.form.set_config(config)
        self._update_buttons()
        self.resume_check.setChecked(True)
        self.show_message(f"The form holds {Path(path).name}'s settings: raise Epochs past {epoch} and press Start "
                          "to continue it")
        return True

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop a run and wait for its thread; True when no thread is left running."""
        job = self.job
        if job is not None:
            job.stop()
        stopped = all(j.wait(timeout_ms) for j in [*([job] if job else []), *self._ending])
        self.flush_library()
        return stopped

    def _prune_ended(self) -> None:
        self._ending = [j for j in self._ending if not j.qthread.isFinished()]

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a training thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)

    # -- runs --------------------------------------------------------------------------------
    def selected_run(self) -> RunRecord | None:
        """The run selected in the table, if any."""
        return self.runs.get(self.table.selected_run_id())

    def last_run_with_checkpoint(self) -> RunRecord | None:
        """The most recent run that wrote a checkpoint."""
        for run_id in sorted(self.runs, reverse=True):
            if self.runs[run_id].checkpoint:
                return self.runs[run_id]
        return None

    def _visibility_changed(self, run_id: int, visible: bool) -> None:
        run = self.runs.get(run_id)
        if run is not None:
            run.visible = visible
            if visible and not run.metrics_loaded:
                self._load_metrics(run)
            self.curves.set_run_visible(run, visible)
            if not run.running:
                self._store(run)

    # -- runs started elsewhere (the Denoise view's "Train on these photos"), kept like ours ----------
    def reserve_run_folder(self, config: RunConfig) -> Path:
        """A new run of the library for a run another view starts; its folder (raises OSError if unwritable)."""
        run = RunRecord(self._next_id, config)
        self.library.create(run)
        self._next_id += 1
        self.runs[run.run_id] = run
        self.table.update_run(run)
        return Path(run.folder)

    def follow_job(self, job: TrainJob, folder: str, config: RunConfig) -> bool:
        """Record that job's run (reserved by reserve_run_folder) in the table, the curves and the library."""
        run = next((r for r in self.runs.values() if r.folder and Path(r.folder) == Path(folder)), None)
        if run is None:
            return False
        run.config = config
        self._store(run)

        def shown(records: list[dict[str, Any]] | None = None, store: bool = True) -> None:
            if records:
                self._append_metrics(run, records)
            if store:
                self._store(run)
            self.curves.update_run(run)
            self.table.update_run(run)

        def started(event: Started) -> None:
            run.on_started(event)
            shown()

        def finished(event: Finished) -> None:
            run.on_finished(event)
            shown()

        job.sigStarted.connect(started)
        job.sigStep.connect(lambda events: shown(run.on_steps(events), store=False))
        job.sigEpoch.connect(lambda event: shown([run.on_epoch(event)]))
        job.sigFinished.connect(finished)
        return True

    # -- worker signals (GUI thread) ------------------------------------------------------------
    def _on_started(self, event: Started) -> None:
        if self.current is None:
            return
        self.current.on_started(event)
        self._store(self.current)
        self.progress.on_started(event)
        self.grid.set_noisy_psnr(event.noisy_psnr)
        self.sigDevice.emit(event.device)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)
        self.show_message(
            f"{self.current.label} on {event.device}: {event.num_parameters:,} parameters, "
            f"{event.train_size} training crops, {event.val_size} validation images, "
            f"noisy input {event.noisy_psnr:.2f} dB"
        )

    def _on_steps(self, events: tuple[Step, ...]) -> None:
        if self.current is None:
            return
        self._append_metrics(self.current, self.current.on_steps(events))
        self.progress.on_steps(events)
        self.curves.update_run(self.current)
        now = time.monotonic()
        if now - self._table_refreshed >= TABLE_REFRESH_S:  # the Time column moves during an epoch
            self._table_refreshed = now
            self.table.update_run(self.current)

    def _on_epoch(self, event: Epoch) -> None:
        if self.current is None:
            return
        self._append_metrics(self.current, [self.current.on_epoch(event)])
        self._store(self.current)
        self.progress.on_epoch(event)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)

    def _on_layer_stats(self, event: LayerStats) -> None:
        """Into metrics.jsonl as denoise-train writes it, so the Inspect view can show it after a restart."""
        if self.current is not None:
            self._append_metrics(self.current, [as_record(event.report, event.step)])

    def _on_lockstep(self, drifts: tuple[Lockstep, ...]) -> None:
        if self.current is not None:
            self._append_metrics(self.current, [{"event": "lockstep", **dataclasses.asdict(d)} for d in drifts])

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
        self._store(run)
        self.curves.update_run(run)
        self.table.update_run(run)
        best = f"best {run.best_psnr:.2f} dB" if math.isfinite(run.best_psnr) else "no validation yet"
        saved = f"; checkpoint {event.checkpoint}" if event.checkpoint else ""
        took = format_duration(run.elapsed_s)
        if event.reason == "done":
            self.show_message(f"{run.label} finished in {took}: {best}{saved}", "ok")
        elif event.reason == "stopped":
            self.show_message(f"{run.label} stopped after {took}: {best}{saved}")
        elif event.reason == "diverged":
            self.show_message(f"{run.label} diverged: {event.message}{saved}", "error")
        else:
            self.show_message(f"{run.label} failed: {event.message}", "error")
        self.progress.finish(f"{run.label}: {event.reason} after {took}, {best}")
        self._update_buttons()
        self.sigRunningChanged.emit(False)
        self.sigRunFinished.emit(run)
