"""DenoiseWorker and DenoiseJob: read, denoise (tiled) and report a batch of photos on a QThread.

The worker posts to an Outbox; the DenoiseJob, on the GUI thread, turns that into signals (see
denoise_gui.threads.outbox for why no Python objects cross threads through Qt signals). For each photo:
'loaded' as soon as it is read (the original shows at once), 'tile' while the engine fills in
the result (nnkit.denoise.inference_preview: a canvas and an ETA), then 'result' with the final
image and the engine's difference image, or 'failed' with the reason naming the file.

A 16-bit or float photo (photo_depth.read_at_depth gives its ``Photo``) is denoised in float, as
`denoise` does it, and its result also comes back at the photo's own precision (uint16 or float32)
for Save; what is shown, measured and compared stays 8-bit. An 8-bit photo goes the uint8 way.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.denoise.photo_depth import read_at_depth
from denoise_gui.threads.outbox import Outbox
from denoise_gui.threads.priority import lower_current_thread_priority
from denoise_gui.threads.worker_job import WorkerJob
from nnkit.denoise.photo import Photo, quantise

DenoiseFn = Callable[..., np.ndarray]
DELIVERY_MS = 40
Task = tuple[str, "np.ndarray | None"]  # a path, and its (8-bit) image when already read
ReadFn = Callable[[str], "np.ndarray | Photo"]  # uint8 (H, W, 3), or a deeper photo's Photo


def default_denoise(model: Any, image: np.ndarray, *, progress: Any, cancel: Any, on_tile: Any = None,
                    strength: float = 1.0, noise_sigma: float | str | None = None,
                    fade_clean: bool = False) -> np.ndarray:
    """Tiled inference by nnkit.denoise.inference.denoise_array (strength, mean correction and fade when asked)."""
    from nnkit.denoise.inference import denoise_array

    extra: dict[str, Any] = {"strength": strength} if strength != 1.0 else {}
    if noise_sigma is not None:
        extra["noise_sigma"] = noise_sigma
        extra["fade_clean"] = fade_clean
    return denoise_array(model, image, progress=progress, cancel=cancel, on_tile=on_tile, **extra)


def estimate_noise(image: np.ndarray) -> float | None:
    """The photo's noise σ (0-255) by nnkit.denoise.sigma_estimate, or None when the engine has no estimator."""
    try:
        from nnkit.denoise.sigma_estimate import estimate_sigma  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return float(estimate_sigma(image))


def default_read(path: str) -> np.ndarray:
    """nnkit.denoise.imageio.read_image: uint8 (H, W, 3) (the clean references the measure worker reads)."""
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
        read: ReadFn | None = None,
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
        self.read = read or read_at_depth
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
            self._process(path, model, image)

    def _process(self, path: str, model: Any, image: np.ndarray | None) -> None:
        """Read (unless given), denoise and post one photo; a failure is posted, never raised."""
        sigma = None  # given with its image: estimated by the mean correction if it needs σ
        photo: Photo | None = None
        if image is None:
            try:
                read = self.read(path)
                photo, image = (read, read.rgb8()) if isinstance(read, Photo) else (None, read)  # shown: 8-bit
            except Exception as exc:
                message = str(exc)
                self.outbox.put("failed", path, message if path in message else f"{path}: {message}")
                return
            del read  # ``photo`` holds a deeper photo, and only until it is denoised
            self.outbox.put("loaded", path, image, photo.depth if photo is not None else "8-bit")
            sigma = self._estimate(path, image)
        full: np.ndarray | None = None  # the result at the photo's own precision, when deeper than 8 bits
        try:
            if photo is None or not self.progressive:
                result = self._denoise(path, model, image, sigma)
            else:
                precise, dtype = self._denoise(path, model, image, sigma, photo.rgb), photo.dtype
                del photo  # the float original (~290 MB at 24 MP) is not held while the result is quantised
                full = quantise(precise, dtype)  # uint16: half the float's memory; float32: the same array
                result = quantise(precise, np.dtype(np.uint8))
                del precise
            difference = self._difference(image, result)
        except Exception as exc:
            if self._cancel.is_set():
                return
            traceback.print_exc()
            self.outbox.put("failed", path, f"{path}: denoising failed ({type(exc).__name__}: {exc})")
            return
        self.outbox.put("result", path, image, result, difference, full)

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

    @staticmethod
    def _difference(image: np.ndarray, result: np.ndarray) -> np.ndarray | None:
        from nnkit.denoise.quality.photo_compare import difference_image

        return difference_image(image, result)

    def _denoise(
        self, path: str, model: Any, image: np.ndarray, sigma: float | None = None, precise: np.ndarray | None = None
    ) -> np.ndarray:
        """The uint8 result of ``image`` (uint8), or with ``precise`` (its float32 RGB) the float32 result of that,
        as nnkit.denoise.inference.denoise_float gives it (``image`` is then the 8-bit copy shown meanwhile)."""
        from nnkit.denoise.inference_preview import ProgressiveResult

        if not self.progressive:
            return self.denoise(
                model, image, cancel=self._cancel.is_set,
                progress=lambda done, total: self.outbox.put("progress", path, int(done), int(total), float("nan")),
            )
        canvas = ProgressiveResult(image)

        def progress(done: int, total: int) -> None:
            canvas.progress(done, total)
            self.outbox.put("progress", path, int(done), int(total), canvas.eta_s())

        self.outbox.put("canvas", path, canvas.canvas)
        extra: dict[str, Any] = {"strength": self.strength} if self.strength != 1.0 else {}
        if self.correct_means:  # with the estimate just shown, not a second one; and the clean-photo fade, as denoise
            extra["noise_sigma"] = "estimate" if sigma is None else sigma
            extra["fade_clean"] = True
        if precise is None:
            return self.denoise(model, image, progress=progress, cancel=self._cancel.is_set, on_tile=canvas.paste,
                                **extra)
        from nnkit.denoise.inference import denoise_float

        return denoise_float(model, precise, image8=image, progress=progress, cancel=self._cancel.is_set,
                             on_tile=canvas.paste, **extra)


class DenoiseJob(WorkerJob):
    """A DenoiseWorker, its QThread, and the delivery of its results as signals on the GUI thread."""

    sigItemStarted = Signal(str)
    sigLoaded = Signal(str, object, str)  # path, original (uint8 H x W x 3) as soon as it is read, its depth
    sigCanvas = Signal(str, object)  # path, the result filling in (the same array, written by the worker)
    sigProgress = Signal(str, int, int, float)  # path, tiles done, tiles in all, ETA in s (the latest only)
    # path, original, denoised (uint8), difference (or None), the result at the photo's precision (None: 8-bit)
    sigResult = Signal(str, object, object, object, object)
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
