"""MeasureJob: PSNR and SSIM of a photo and its results against a clean reference, on a QThread.

The engine (nnkit.denoise.quality.photo_compare) does the maths on the worker thread; the job delivers one
'measured' (the reference and a Quality per image) or one 'failed' (the reason, naming the file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.denoise.worker import default_read
from denoise_gui.threads.outbox import Outbox
from denoise_gui.threads.worker_job import WorkerJob


class MeasureWorker(QObject):
    """Reads the reference (unless given) and measures each image against it."""

    def __init__(self, path: str, reference: str | np.ndarray, images: dict[Any, np.ndarray],
                 read: Callable[[str], np.ndarray] | None = None) -> None:
        super().__init__()
        self.path, self.reference, self.images = path, reference, images
        self.read = read or default_read
        self.outbox = Outbox()

    @Slot()
    def run(self) -> None:
        """Measure, then post the outcome (never raises)."""
        try:
            from nnkit.denoise.quality.photo_compare import quality

            reference = self.reference if isinstance(self.reference, np.ndarray) else self.read(self.reference)
            scores = {key: quality(image, reference) for key, image in self.images.items()}
            self.outbox.put("measured", self.path, reference, scores)
        except Exception as exc:
            name = self.reference if isinstance(self.reference, str) else "the reference"
            message = str(exc)
            self.outbox.put("failed", self.path, message if name in message else f"{name}: {message}")
        finally:
            QThread.currentThread().quit()


class MeasureJob(WorkerJob):
    """A MeasureWorker on its thread. Emits sigMeasured(path, reference, scores) or sigFailed(path, message)."""

    sigMeasured = Signal(str, object, object)
    sigFailed = Signal(str, str)

    def __init__(self, worker: MeasureWorker, parent: QObject | None = None) -> None:
        super().__init__(worker, "measure-worker", 40, parent)

    @Slot()
    def deliver(self) -> None:
        """Emit the outcome once it is there (GUI thread)."""
        for kind, payload in self.worker.outbox.take_all():
            if self._mark_finished():
                (self.sigMeasured if kind == "measured" else self.sigFailed).emit(*payload)
