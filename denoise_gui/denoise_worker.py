"""DenoiseWorker and DenoiseJob: read, denoise (tiled) and report a batch of files on a QThread."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.thread_priority import lower_current_thread_priority

DenoiseFn = Callable[..., np.ndarray]


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

    sigItemStarted = Signal(str)
    sigProgress = Signal(str, int, int)  # path, tiles done, tiles in all
    sigResult = Signal(str, object, object)  # path, original, denoised (uint8 H x W x 3)
    sigFailed = Signal(str, str)  # path, message naming the file
    sigFinished = Signal(bool)  # cancelled

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
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Stop after the current tile (thread-safe)."""
        self._cancel.set()

    def cancelled(self) -> bool:
        """Whether a cancel was requested."""
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        """Process every path, then emit sigFinished (never raises)."""
        lower_current_thread_priority()
        try:
            model = self.model_factory()
        except Exception as exc:
            for path in self.paths:
                self.sigFailed.emit(path, f"{path}: the model could not be built ({type(exc).__name__}: {exc})")
            self.sigFinished.emit(False)
            QThread.currentThread().quit()
            return
        for path in self.paths:
            if self._cancel.is_set():
                break
            self.sigItemStarted.emit(path)
            try:
                image = self.read(path)
            except Exception as exc:
                message = str(exc)
                if path not in message:
                    message = f"{path}: {message}"
                self.sigFailed.emit(path, message)
                continue
            try:
                result = self.denoise(
                    model,
                    image,
                    progress=lambda done, total, p=path: self.sigProgress.emit(p, int(done), int(total)),
                    cancel=self._cancel.is_set,
                )
            except Exception as exc:
                if self._cancel.is_set():
                    break
                traceback.print_exc()
                self.sigFailed.emit(path, f"{path}: denoising failed ({type(exc).__name__}: {exc})")
                continue
            self.sigResult.emit(path, image, result)
        self.sigFinished.emit(self._cancel.is_set())
        QThread.currentThread().quit()  # direct: the GUI thread may be blocked in wait()


class DenoiseJob(QObject):
    """A DenoiseWorker and its QThread."""

    def __init__(self, worker: DenoiseWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.qthread = QThread()
        self.qthread.setObjectName("denoise-worker")
        worker.moveToThread(self.qthread)
        self.qthread.started.connect(worker.run)

    def start(self) -> None:
        """Start on the worker thread."""
        self.qthread.start()

    def cancel(self) -> None:
        """Request a cancel."""
        self.worker.cancel()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the thread ended, at most ``timeout_ms``."""
        return bool(self.qthread.wait(timeout_ms))

    def release(self) -> None:
        """Delete this job once its thread has ended, without blocking the GUI thread."""
        if self.qthread.isFinished():
            self.deleteLater()
        else:
            self.qthread.finished.connect(self.deleteLater)
