"""Python's cyclic garbage collection on the GUI thread only, so no Qt object dies on a worker thread.

Why: CPython runs the cyclic collector on whichever thread's allocation crosses the threshold. When a
worker thread (training, denoising) collects a cycle that holds PySide objects, Shiboken defers the
widgets' C++ deletion to the GUI thread but deletes plain QObjects (actions, timers) right there, with
the GIL released: ``~QObject`` on the worker locks the object's signal-slot mutex and then asks for the
GIL (a Python override of ``disconnectNotify``), while the GUI thread, holding the GIL, runs the
deferred ``~QMenu -> ~QAction`` and waits for that mutex. The app froze for good (issue 19).

The remedy is pyqtgraph's (``pyqtgraph.util.garbage_collector``): automatic collection off, and a
timer on the GUI thread that collects, always here. Unlike pyqtgraph it collects the young
generation at every tick: gen 0's count is allocations minus frees, so sampled once a second it
can read 0 while a thousand new cycles wait (frees elsewhere balanced them), and they would never
go. The older generations keep CPython's thresholds (gen 1 after 10 young collections, gen 2 after
10 of gen 1). Refcounted frees are untouched; only cycles wait (a second at most while the event
loop runs). ``collect_on_gui_thread()`` installs it for a block and restores automatic collection
after a last full collection on the GUI thread; installs nest. ``freeze_startup()`` moves what the
start-up built (torch, Qt, the window) out of the collector's sight, so a full collection scans
only what came later.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot

INTERVAL_MS = 1000  # pyqtgraph's default: a gen-0 pass costs ~1 ms, cycles wait at most a second


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects on a timer of the thread that made it (the GUI's)."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thread_id = threading.get_ident()
        self.thresholds = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        self.off_thread_collections = 0  # collections seen on another thread while installed (explicit gc.collect())
        self.reenabled = 0  # times something turned automatic collection back on (undone at the next tick)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        gc.disable()
        gc.callbacks.append(self._watch)
        self.timer.start()

    @Slot()
    def check(self) -> None:
        """Collect gen 0, or the oldest generation whose threshold was crossed (the younger ones with it)."""
        if gc.isenabled():  # a library's gc.disable()/gc.enable() pair: take collection back
            self.reenabled += 1
            gc.disable()
        counts = gc.get_count()
        generation = 0
        for g in (1, 2):
            if counts[g] <= self.thresholds[g]:
                break
            generation = g
        gc.collect(generation)

    def stop(self) -> None:
        """Stop collecting here: a last full collection on this thread, then automatic collection as before."""
        self.timer.stop()
        if self._watch in gc.callbacks:
            gc.callbacks.remove(self._watch)
        gc.collect()
        if self.was_enabled:
            gc.enable()

    def _watch(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and threading.get_ident() != self.thread_id:
            self.off_thread_collections += 1


_installed: list[GuiThreadCollector] = []


def freeze_startup() -> None:
    """Collect now, then leave everything alive out of later collections (gc.freeze): the app's start-up
    objects (~220 000 with torch, Qt and the window) live to the end anyway, and a full collection on the
    GUI thread then takes ~0.1 ms instead of ~370 ms (2-core VM, loaded)."""
    gc.collect()
    gc.freeze()


def installed() -> GuiThreadCollector | None:
    """The collector in charge now, if any."""
    return _installed[0] if _installed else None


@contextmanager
def collect_on_gui_thread(interval_ms: int = INTERVAL_MS) -> Iterator[GuiThreadCollector]:
    """Collect garbage only on this (the GUI) thread for the block; an inner install reuses the outer one."""
    outer = installed()
    collector = outer or GuiThreadCollector(interval_ms)
    _installed.append(collector)
    try:
        yield collector
    finally:
        _installed.pop()
        if outer is None:
            collector.stop()
            collector.deleteLater()
