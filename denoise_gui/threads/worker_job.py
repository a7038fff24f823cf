"""WorkerJob: a worker QObject on its own QThread, its posted events delivered on the GUI thread.

The worker posts ``(kind, payload)`` pairs to its ``outbox`` from its thread; a timer on the
GUI thread calls ``deliver()`` every ``delivery_ms`` and subclasses turn what was posted into
signals there (napari-style workers, without sending Python objects across threads).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Slot


class WorkerJob(QObject):
    """Base of TrainJob and DenoiseJob: thread, delivery timer, start, wait, release."""

    def __init__(self, worker: Any, thread_name: str, delivery_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.qthread = QThread()
        self.qthread.setObjectName(thread_name)
        worker.moveToThread(self.qthread)
        self.qthread.started.connect(worker.run)
        self.timer = QTimer(self)
        self.timer.setInterval(delivery_ms)
        self.timer.timeout.connect(self.deliver)
        self.finished = False

    def start(self) -> None:
        """Start the worker on its thread and the delivery timer."""
        self.qthread.start()
        self.timer.start()

    @Slot()
    def deliver(self) -> None:
        """Emit what the worker posted since the last call (GUI thread)."""
        raise NotImplementedError

    def _mark_finished(self) -> bool:
        """Note the worker's last event; False if it was already seen."""
        if self.finished:
            return False
        self.finished = True
        self.timer.stop()
        return True

    def is_running(self) -> bool:
        """Whether the worker thread is still going."""
        return bool(self.qthread.isRunning())

    def wait(self, timeout_ms: int) -> bool:
        """Block until the worker thread ended, at most ``timeout_ms``; True if it did."""
        return bool(self.qthread.wait(timeout_ms))

    def release(self) -> None:
        """Delete this job once its thread has ended, without blocking the GUI thread."""
        if self.qthread.isFinished():
            self.deleteLater()
        else:
            self.qthread.finished.connect(self.deleteLater)
