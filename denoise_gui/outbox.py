"""Outbox: how worker threads hand results to the GUI thread without cross-thread Qt signals.

Workers ``put`` plain Python objects into a thread-safe queue; a QTimer on the GUI thread takes
them out and emits ordinary (same-thread) signals. PySide6 6.8+ can corrupt reference counts when
signals carrying Python objects are emitted from another thread (seen here as "deallocating None"
during a long run; PYSIDE-3124), and a timer also throttles the GUI updates for free.
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
