"""DenoiseWorker and DenoiseJob: read, denoise (tiled) and report a batch of photos on a QThread.

The worker posts to an Outbox; the DenoiseJob, on the GUI thread, turns that into signals (see
denoise_gui.threads.outbox for why no Python objects cross threads through Qt signals). For each photo:
'loaded' as soon as it is read (the original shows at once), 'tile' while the engine fills in
the result (nnkit.denoise.inference_preview: a canvas and an ETA), then 'result' with the final
image and the engine's difference image, or 'failed' with the reason naming the file.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.threads.outbox import Outbox
from denoise_gui.threads.priority import lower_current_thread_priority
from denoise_gui.threads.worker_job import WorkerJob

DenoiseFn = Callable[..., np.ndarray]
DELIVERY_MS = 40
Task = tuple[str, "np.ndarray | None"]  # a path, and its image when already read


def default_denoise(model: Any, image: np.ndarray, *, progress: Any, cancel: Any, on_tile: Any = None,
                    strength: float = 1.0, noise_sigma: float | str | None = None) -> np.ndarray:
    """Tiled inference by nnkit.denoise.inference.denoise_array (strength and mean correction when asked)."""
    from nnkit.denoise.inference import denoise_array

    extra: dict[str, Any] = {"strength": strength} if strength != 1.0 else {}
    if noise_sigma is not None:
        extra["noise_sigma"] = noise_sigma
    return denoise_array(model, image, progress=progress, cancel=cancel, on_tile=on_tile, **extra)


def estimate_noise(image: np.ndarray) -> float | None:
    """The photo's noise σ (0-255) by nnkit.denoise.sigma_estimate, or None when the engine has no estimator."""
    try:
        from nnkit.denoise.sigma_estimate import estimate_sigma  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return float(estimate_sigma(image))


def default_read(path: str) -> np.ndarray:
    """nnkit.denoise.imageio.read_image."""
    from nnkit.denoise.imageio import read_image

    return read_image(path)


class DenoiseWorker(QObject):
    """Builds the model on its thread, then denoises each photo; one bad file never stops the batch."""

    def __init__(
        self,
        tasks: Sequence[str | Task],
        model_factory: Callable[[], Any],
        *,
        denoise: DenoiseFn | None = None,
        read: Callable[[str], np.ndarray] | None = None,
        strength: float = 1.0,
        correct_means: bool = False,
    ) -> None:
        super().__init__()
        self.strength = strength
        self.correct_means = correct_means  # the mean correction, σ estimated (models of Gaussian noise)
        self.tasks: list[Task] = [(t, None) if isinstance(t, str) else t for t in tasks]
        self.paths = [path for path, _ in self.tasks]
        self.model_factory = model_factory
        self.denoise = denoise or default_denoise
        self.progressive = denoise is None  # injected functions (tests) take progress and cancel only
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
        """Process every photo, then post 'finished' (never raises)."""
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
        for path, image in self.tasks:
            if self._cancel.is_set():
                return
            self.outbox.put("started", path)
            if image is None:
                try:
                    image = self.read(path)
                except Exception as exc:
                    message = str(exc)
                    self.outbox.put("failed", path, message if path in message else f"{path}: {message}")
                    continue
                self.outbox.put("loaded", path, image)
                sigma = self._estimate(path, image)
            else:
                sigma = None  # given with its image: estimated by the mean correction if it needs σ
            try:
                result, difference = self._denoise(path, model, image, sigma)
            except Exception as exc:
                if self._cancel.is_set():
                    return
                traceback.print_exc()
                self.outbox.put("failed", path, f"{path}: denoising failed ({type(exc).__name__}: {exc})")
                continue
            self.outbox.put("result", path, image, result, difference)

    def _estimate(self, path: str, image: np.ndarray) -> float | None:
        """Post the photo's noise estimate; return it (None when there is none)."""
        try:
            sigma = estimate_noise(image)
        except Exception as exc:  # an estimate is a hint: its failure never stops the denoising
            self.outbox.put("sigma", path, float("nan"), f"{type(exc).__name__}: {exc}")
            return None
        if sigma is not None:
            self.outbox.put("sigma", path, sigma, "")
        return sigma

    def _denoise(
        self, path: str, model: Any, image: np.ndarray, sigma: float | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        from nnkit.denoise.inference_preview import ProgressiveResult
        from nnkit.denoise.quality.photo_compare import difference_image

        if not self.progressive:
            result = self.denoise(
                model, image, cancel=self._cancel.is_set,
                progress=lambda done, total: self.outbox.put("progress", path, int(done), int(total), float("nan")),
            )
            return result, difference_image(image, result)
        canvas = ProgressiveResult(image)

        def progress(done: int, total: int) -> None:
            canvas.progress(done, total)
            self.outbox.put("progress", path, int(done), int(total), canvas.eta_s())

        self.outbox.put("canvas", path, canvas.canvas)
        extra: dict[str, Any] = {"strength": self.strength} if self.strength != 1.0 else {}
        if self.correct_means:  # with the estimate just shown, not a second one
            extra["noise_sigma"] = "estimate" if sigma is None else sigma
        result = self.denoise(model, image, progress=progress, cancel=self._cancel.is_set, on_tile=canvas.paste,
                              **extra)
        return result, difference_image(image, result)


class DenoiseJob(WorkerJob):
    """A DenoiseWorker, its QThread, and the delivery of its results as signals on the GUI thread."""

    sigItemStarted = Signal(str)
    sigLoaded = Signal(str, object)  # path, original (uint8 H x W x 3), as soon as it is read
    sigCanvas = Signal(str, object)  # path, the result filling in (the same array, written by the worker)
    sigProgress = Signal(str, int, int, float)  # path, tiles done, tiles in all, ETA in s (the latest only)
    sigResult = Signal(str, object, object, object)  # path, original, denoised, difference (or None)
    sigFailed = Signal(str, str)  # path, message naming the file
    sigSigma = Signal(str, float, str)  # path, estimated noise σ (0-255), error ('' when estimated)
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
            elif kind == "loaded":
                self.sigLoaded.emit(*payload)
            elif kind == "canvas":
                self.sigCanvas.emit(*payload)
            elif kind == "sigma":
                self.sigSigma.emit(*payload)
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
