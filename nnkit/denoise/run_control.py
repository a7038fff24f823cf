"""Stop, pause and resume requests: made from any thread, honoured by the training thread between steps."""

from __future__ import annotations

import threading
import time

_PAUSE_POLL_S = 0.1


class RunControl:
    """The requests a run's owner (the app, Ctrl-C) makes of a training thread; all thread-safe."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.paused_s = 0.0  # seconds the training thread has waited while paused

    def request_stop(self) -> None:
        """Ask the run to stop after the current step (a paused run wakes to stop)."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Ask the run to wait before its next step until ``resume()``."""
        self._running.clear()

    def resume(self) -> None:
        """Let a paused run go on."""
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def stop_requested(self) -> bool:
        """Whether a stop was asked (a callable, e.g. the ``cancel`` of tiled inference)."""
        return self._stop.is_set()

    def wait_if_paused(self) -> float:
        """Block while paused (without spinning); returns the seconds waited (training thread)."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        while not self._running.wait(_PAUSE_POLL_S) and not self._stop.is_set():
            pass
        waited = time.perf_counter() - start
        self.paused_s += waited
        return waited
