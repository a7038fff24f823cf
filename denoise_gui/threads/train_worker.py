"""TrainWorker and TrainJob: Trainer.run() on a QThread, its events turned into Qt signals.

The worker builds the Trainer on its own thread and owns the model until the run ends; the GUI
thread only calls the trainer's thread-safe requests (pause, resume, stop, save). Events travel
through an Outbox; the TrainJob, on the GUI thread, turns them into sigStarted, sigStep (the steps
since the last delivery, coalesced: at most ~20 updates a second), sigEpoch, sigPreview, sigSaved,
sigLayerStats (every inspect_every steps), sigLockstep (coalesced like the steps)
and sigFinished.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.threads.outbox import Outbox
from denoise_gui.threads.priority import lower_current_thread_priority
from denoise_gui.threads.worker_job import WorkerJob
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Event, Finished, LayerStats, Lockstep, Preview, Started, Step

DELIVERY_MS = 50  # the GUI takes the worker's events at most 20 times a second


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
    """Runs one training run on its thread; posts events to ``outbox``, 'finished' last."""

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
        self.parallel = bool(getattr(self.factory, "parallel", False))  # N processes: no pause
        self.outbox = Outbox()
        self.trainer: TrainerLike | None = None
        self._lock = threading.Lock()
        self._stop = False
        self._paused = False
        self._save_to: list[Path] = []

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
        """Save a checkpoint at the next event, from the worker thread (answered with 'saved')."""
        with self._lock:
            self._save_to.append(Path(path))

    # -- the run, on the worker thread ---------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """Build the trainer, run it to the end, post 'finished' (never raises)."""
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
        self._save_requested()
        self.outbox.put("finished", finished)
        QThread.currentThread().quit()  # direct: the GUI thread may be blocked in wait()

    def _on_event(self, event: Event) -> None:
        kind = {
            Started: "started",
            Step: "step",
            Epoch: "epoch",
            Preview: "preview",
            LayerStats: "layers",
            Lockstep: "lockstep",
        }.get(type(event))
        if kind is not None:  # Finished is posted by run(), after the trainer returned
            self.outbox.put(kind, event)
        self._save_requested()

    def _save_requested(self) -> None:
        with self._lock:
            paths, self._save_to = self._save_to, []
            trainer = self.trainer
        for path in paths:
            try:
                if trainer is None:
                    raise RuntimeError("the run has not started")
                self.outbox.put("saved", str(trainer.save_checkpoint(path)), "")
            except Exception as exc:
                self.outbox.put("saved", str(path), f"{type(exc).__name__}: {exc}")


class TrainJob(WorkerJob):
    """A TrainWorker, its QThread, and the delivery of its events as signals on the GUI thread."""

    sigStarted = Signal(object)  # Started
    sigStep = Signal(object)  # tuple[Step, ...]: the steps since the last delivery
    sigEpoch = Signal(object)  # Epoch
    sigPreview = Signal(object)  # Preview
    sigSaved = Signal(str, str)  # path, error message ('' when saved)
    sigLayerStats = Signal(object)  # LayerStats (plain numbers and histograms, for the Inspect view)
    sigLockstep = Signal(object)  # tuple[Lockstep, ...]: the lockstep drifts since the last delivery
    sigFinished = Signal(object)  # Finished (once, last)

    def __init__(self, worker: TrainWorker, parent: QObject | None = None) -> None:
        super().__init__(worker, "train-worker", DELIVERY_MS, parent)
        self.worker: TrainWorker = worker
        self.paused = False

    @Slot()
    def deliver(self) -> None:
        """Emit the events posted since the last call (GUI thread); steps coalesced into one signal."""
        steps: list[Step] = []
        drifts: list[Lockstep] = []
        for kind, payload in self.worker.outbox.take_all():
            if kind == "step":
                steps.append(payload[0])
                continue
            if kind == "lockstep":
                drifts.append(payload[0])
                continue
            if kind == "layers":
                self.sigLayerStats.emit(payload[0])
                continue
            if steps:
                self.sigStep.emit(tuple(steps))
                steps = []
            if kind == "started":
                self.sigStarted.emit(payload[0])
            elif kind == "epoch":
                self.sigEpoch.emit(payload[0])
            elif kind == "preview":
                self.sigPreview.emit(payload[0])
            elif kind == "saved":
                self.sigSaved.emit(payload[0], payload[1])
            elif kind == "finished" and self._mark_finished():
                self.sigFinished.emit(payload[0])
        if steps:
            self.sigStep.emit(tuple(steps))
        if drifts:
            self.sigLockstep.emit(tuple(drifts))

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

