"""DenoiseWorker and DenoiseJob: read, denoise (tiled) and report a batch of files on a QThread.

The worker posts its results to an Outbox; the DenoiseJob, on the GUI thread, turns them into
signals (see denoise_gui.outbox for why no Python objects cross threads through Qt signals).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.outbox import Outbox
from denoise_gui.thread_priority import lower_current_thread_priority
from denoise_gui.worker_job import WorkerJob

DenoiseFn = Callable[..., np.ndarray]
DELIVERY_MS = 40


def default_denoise(model: Any, image: np.ndarray, *, progress: Any, cancel: Any) -> np.ndarray:
    """Tiled inference by nnkit.denoise.inference.denoise_array."""
    from nnkit.denoise.inference import denoise_array

    return denoise_array(model, image, progress=progress, cancel=cancel)


def default_read(path: str) -> np.ndarray:
    """nnkit.denoise.imageio.read_image."""
    from nnkit.denoise.imageio import read_image

    return read_image(path)


class DenoiseWorker(QObject):
    """Builds the model on its thread, then denoises each path; one bad file never stops the batch."""

    def __init__(
        self,
        paths: Sequence[str],
        model_factory: Callable[[], Any],
        *,
        denoise: DenoiseFn | None = None,
        read: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.paths = list(paths)
        self.model_factory = model_factory
        self.denoise = denoise or default_denoise
        self.read = read or default_read
        self.outbox = Outbox()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop after the current tile (thread-safe)."""
        self._cancel.set()

    def cancelled(self) -> bool:
        """Whether a cancel was requested."""
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        """Process every path, then post 'finished' (never raises)."""
        lower_current_thread_priority()
        try:
            self._run()
        finally:
            self.outbox.put("finished", self._cancel.is_set())
            QThread.currentThread().quit()  # direct: the GUI thread may be blocked in wait()

    def _run(self) -> None:
        try:
            model = self.model_factory()
        except Exception as exc:
            for path in self.paths:
                self.outbox.put("failed", path, f"{path}: the model could not be built ({type(exc).__name__}: {exc})")
            return
        for path in self.paths:
            if self._cancel.is_set():
                return
            self.outbox.put("started", path)
            try:
                image = self.read(path)
            except Exception as exc:
                message = str(exc)
                self.outbox.put("failed", path, message if path in message else f"{path}: {message}")
                continue
            try:
                result = self.denoise(
                    model,
                    image,
                    progress=lambda done, total, p=path: self.outbox.put("progress", p, int(done), int(total)),
                    cancel=self._cancel.is_set,
                )
            except Exception as exc:
                if self._cancel.is_set():
                    return
                traceback.print_exc()
                self.outbox.put("failed", path, f"{path}: denoising failed ({type(exc).__name__}: {exc})")
                continue
            self.outbox.put("result", path, image, result)


class DenoiseJob(WorkerJob):
    """A DenoiseWorker, its QThread, and the delivery of its results as signals on the GUI thread."""

    sigItemStarted = Signal(str)
    sigProgress = Signal(str, int, int)  # path, tiles done, tiles in all (the latest only)
    sigResult = Signal(str, object, object)  # path, original, denoised (uint8 H x W x 3)
    sigFailed = Signal(str, str)  # path, message naming the file
    sigFinished = Signal(bool)  # cancelled (once, last)

    def __init__(self, worker: DenoiseWorker, parent: QObject | None = None) -> None:
        super().__init__(worker, "denoise-worker", DELIVERY_MS, parent)
        self.worker: DenoiseWorker = worker

    @Slot()
    def deliver(self) -> None:
        """Emit what the worker posted since the last call (GUI thread); progress: the latest only."""
        progress: tuple[Any, ...] | None = None
        for kind, payload in self.worker.outbox.take_all():
            if kind == "progress":
                progress = payload
                continue
            if progress is not None:
                self.sigProgress.emit(*progress)
                progress = None
            if kind == "started":
                self.sigItemStarted.emit(payload[0])
            elif kind == "result":
                self.sigResult.emit(*payload)
            elif kind == "failed":
                self.sigFailed.emit(*payload)
            elif kind == "finished" and self._mark_finished():
                self.sigFinished.emit(payload[0])
        if progress is not None:
            self.sigProgress.emit(*progress)

    def cancel(self) -> None:
        """Request a cancel."""
        self.worker.cancel()
