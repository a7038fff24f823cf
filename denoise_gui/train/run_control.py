"""The Train view's run control: Start (a run of the library on a TrainJob), Pause/Resume, Stop, saving
a checkpoint, continuing one, and shutting down without leaving a thread behind.

A mixin of TrainView (view.py); the running run's signals are handled in run_events.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QCheckBox, QSpinBox, QWidget

from denoise_gui.threads.train_worker import TrainerFactory, TrainJob, TrainWorker
from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.parallel_runs import parallel_factory, parallel_problem
from denoise_gui.train.progress_panel import ProgressPanel
from denoise_gui.train.run_form import RunForm
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.run_table import RunTable
from denoise_gui.train.runs import RunRecord
from nnkit.denoise.config import RunConfig


class RunControlMixin:
    """Start, pause, stop and save the view's own run (one at a time)."""

    runs_dir: Path
    library: RunLibrary
    trainer_factory: TrainerFactory | None
    runs: dict[int, RunRecord]
    job: TrainJob | None
    _ending: list[TrainJob]
    current: RunRecord | None
    resume_checkpoint: Any
    _next_id: int
    form: RunForm
    resume_check: QCheckBox
    processes: QSpinBox
    progress: ProgressPanel
    curves: CurvesPanel
    table: RunTable

    if TYPE_CHECKING:  # provided by TrainView and its other parts
        sigConfigStarted: SignalInstance
        sigJobStarted: SignalInstance
        sigRunningChanged: SignalInstance

        def show_message(self, text: str, kind: str = "info") -> None: ...
        def is_running(self) -> bool: ...
        def _update_buttons(self) -> None: ...
        def flush_library(self) -> bool: ...
        def selected_run(self) -> RunRecord | None: ...
        def last_run_with_checkpoint(self) -> RunRecord | None: ...
        def _connect_job(self, job: TrainJob) -> None: ...

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
        self.job = job = TrainJob(worker, cast(QWidget, self))
        self._connect_job(job)
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
