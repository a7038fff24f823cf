"""Outbox: how worker threads hand results to the GUI thread without cross-thread Qt signals.

Workers ``put`` plain Python objects into a thread-safe queue; a QTimer on the GUI thread takes
them out and emits ordinary (same-thread) signals. No Python object crosses threads through Qt's
queued connections (a known source of PySide6 crashes, PYSIDE-3124), and the timer throttles the
GUI updates for free (a run's steps arrive as one batch per delivery).
"""

from __future__ import annotations

import queue
from typing import Any


class Outbox:
    """A thread-safe mailbox of (kind, payload) messages."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, tuple[Any, ...]]] = queue.SimpleQueue()

    def put(self, kind: str, *payload: Any) -> None:
        """Post a message (any thread)."""
        self._queue.put((kind, payload))

    def take_all(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every message posted so far, oldest first (GUI thread)."""
        messages = []
        while True:
            try:
                messages.append(self._queue.get_nowait())
            except queue.Empty:
                return messages
