"""TrainWorker and TrainJob: Trainer.run() on a QThread, its events turned into Qt signals.

The worker builds the Trainer on its own thread and owns the model until ``sigFinished``;
the GUI thread only calls the trainer's thread-safe requests (pause, resume, stop, save).
Step events are coalesced so the GUI gets at most ~20 updates a second.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.thread_priority import lower_current_thread_priority
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Event, Finished, Preview, Started, Step

STEP_INTERVAL_S = 0.05  # coalesce Step events: at most 20 signals a second


class TrainerLike(Protocol):
    """What the worker needs of nnkit.denoise.trainer.Trainer."""

    def run(self) -> Finished: ...
    def request_stop(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def save_checkpoint(self, path: str | Path) -> Path: ...


TrainerFactory = Callable[..., TrainerLike]


def default_trainer_factory(
    config: RunConfig, on_event: Callable[[Event], None], *, checkpoint_path: Path | None, resume_from: Any
) -> TrainerLike:
    """The real Trainer (imported late so the app starts fast)."""
    from nnkit.denoise.trainer import Trainer

    return Trainer(config, on_event, checkpoint_path=checkpoint_path, resume_from=resume_from)


class TrainWorker(QObject):
    """Runs one training run; emits sigStarted/sigStep/sigEpoch/sigPreview, then sigFinished once."""

    sigStarted = Signal(object)  # Started
    sigStep = Signal(object)  # tuple[Step, ...]: the steps since the last signal
    sigEpoch = Signal(object)  # Epoch
    sigPreview = Signal(object)  # Preview
    sigSaved = Signal(str, str)  # path, error message ('' when saved)
    sigFinished = Signal(object)  # Finished

    def __init__(
        self,
        config: RunConfig,
        *,
        checkpoint_path: Path | None = None,
        resume_from: Any = None,
        factory: TrainerFactory | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.checkpoint_path = checkpoint_path
        self.resume_from = resume_from
        self.factory = factory or default_trainer_factory
        self.trainer: TrainerLike | None = None
        self._lock = threading.Lock()
        self._stop = False
        self._paused = False
        self._save_to: list[Path] = []
        self._steps: list[Step] = []
        self._last_emit = 0.0

    # -- requests from the GUI thread (thread-safe) --------------------------------------------
    def request_stop(self) -> None:
        """Ask the run to stop after the current step."""
        with self._lock:
            self._stop = True
            trainer = self.trainer
        if trainer is not None:
            trainer.request_stop()
            trainer.resume()

    def pause(self) -> None:
        """Ask the run to pause after the current step."""
        with self._lock:
            self._paused = True
            trainer = self.trainer
        if trainer is not None:
            trainer.pause()

    def resume(self) -> None:
        """Resume a paused run."""
        with self._lock:
            self._paused = False
            trainer = self.trainer
        if trainer is not None:
            trainer.resume()

    def request_save(self, path: Path) -> None:
        """Save a checkpoint at the next step, from the worker thread (answers with sigSaved)."""
        with self._lock:
            self._save_to.append(Path(path))

    # -- the run, on the worker thread ---------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Build the trainer, run it to the end, emit sigFinished (never raises)."""
        lower_current_thread_priority()
        try:
            trainer = self.factory(
                self.config, self._on_event, checkpoint_path=self.checkpoint_path, resume_from=self.resume_from
            )
            with self._lock:
                self.trainer = trainer
                stop, paused = self._stop, self._paused
            if stop:
                trainer.request_stop()
            elif paused:
                trainer.pause()
            finished = trainer.run()
        except Exception as exc:  # reported, not raised: the app stays usable
            traceback.print_exc()
            finished = Finished("error", f"{type(exc).__name__}: {exc}")
        self._flush_steps()
        self._save_requested()
        self.sigFinished.emit(finished)
        QThread.currentThread().quit()  # direct: the GUI thread may be blocked in wait()

    def _on_event(self, event: Event) -> None:
        if isinstance(event, Step):
            self._steps.append(event)
            if time.monotonic() - self._last_emit >= STEP_INTERVAL_S:
                self._flush_steps()
            self._save_requested()
            return
        self._flush_steps()
        if isinstance(event, Started):
            self.sigStarted.emit(event)
        elif isinstance(event, Epoch):
            self.sigEpoch.emit(event)
        elif isinstance(event, Preview):
            self.sigPreview.emit(event)
        self._save_requested()

    def _flush_steps(self) -> None:
        if self._steps:
            batch, self._steps = tuple(self._steps), []
            self.sigStep.emit(batch)
        self._last_emit = time.monotonic()

    def _save_requested(self) -> None:
        with self._lock:
            paths, self._save_to = self._save_to, []
            trainer = self.trainer
        for path in paths:
            try:
                if trainer is None:
                    raise RuntimeError("the run has not started")
                self.sigSaved.emit(str(trainer.save_checkpoint(path)), "")
            except Exception as exc:
                self.sigSaved.emit(str(path), f"{type(exc).__name__}: {exc}")


class TrainJob(QObject):
    """A TrainWorker and its QThread: start, pause, resume, stop, wait."""

    def __init__(self, worker: TrainWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.qthread = QThread()
        self.qthread.setObjectName("train-worker")
        worker.moveToThread(self.qthread)
        self.qthread.started.connect(worker.run)
        self.paused = False

    def start(self) -> None:
        """Start the run on the worker thread."""
        self.qthread.start()

    def is_running(self) -> bool:
        """Whether the worker thread is still going."""
        return bool(self.qthread.isRunning())

    def pause(self) -> None:
        """Pause between steps."""
        self.paused = True
        self.worker.pause()

    def resume(self) -> None:
        """Resume."""
        self.paused = False
        self.worker.resume()

    def stop(self) -> None:
        """Request a stop (returns at once; sigFinished follows)."""
        self.paused = False
        self.worker.request_stop()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the worker thread ended, at most ``timeout_ms``; True if it did."""
        return bool(self.qthread.wait(timeout_ms))

    def release(self) -> None:
        """Delete this job once its thread has ended, without blocking the GUI thread."""
        if self.qthread.isFinished():
            self.deleteLater()
        else:
            self.qthread.finished.connect(self.deleteLater)
