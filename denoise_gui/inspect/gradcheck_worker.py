"""GradcheckWorker and GradcheckJob: nnkit.gradcheck.check_model of a network on a QThread.

The worker builds its own model (from a checkpoint file, or fresh weights) on its thread, so the
GUI never touches a model that a training worker owns; the rows come back as plain data.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from denoise_gui.threads.outbox import Outbox
from denoise_gui.threads.worker_job import WorkerJob

DELIVERY_MS = 50
ModelFactory = Callable[[], Any]  # builds the nnkit model to check (called on the worker thread)


class GradcheckWorker(QObject):
    """Builds the model, runs the check, posts 'rows' or 'failed', then 'finished'."""

    def __init__(self, model_factory: ModelFactory, check: Callable[[Any], list[Any]] | None = None) -> None:
        super().__init__()
        self.model_factory = model_factory
        self.check = check or _default_check
        self.outbox = Outbox()

    @Slot()
    def run(self) -> None:
        """Never raises: a failure is posted as a message."""
        try:
            self.outbox.put("rows", self.check(self.model_factory()))
        except Exception as exc:
            traceback.print_exc()
            self.outbox.put("failed", f"gradient check failed: {type(exc).__name__}: {exc}")
        finally:
            self.outbox.put("finished")
            QThread.currentThread().quit()


def _default_check(model: Any) -> list[Any]:
    from nnkit.denoise.inspection import gradcheck_denoiser

    return gradcheck_denoiser(model)


class GradcheckJob(WorkerJob):
    """A GradcheckWorker on its thread; sigRows(list of GradcheckRow) or sigFailed(message), then sigFinished."""

    sigRows = Signal(object)
    sigFailed = Signal(str)
    sigFinished = Signal()

    def __init__(self, worker: GradcheckWorker, parent: QObject | None = None) -> None:
        super().__init__(worker, "gradcheck-worker", DELIVERY_MS, parent)

    @Slot()
    def deliver(self) -> None:
        for kind, payload in self.worker.outbox.take_all():
            if kind == "rows":
                self.sigRows.emit(payload[0])
            elif kind == "failed":
                self.sigFailed.emit(payload[0])
            elif kind == "finished" and self._mark_finished():
                self.sigFinished.emit()
