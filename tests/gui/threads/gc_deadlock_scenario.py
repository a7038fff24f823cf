"""The issue-19 freeze in miniature, as a script: Qt objects left in reference cycles while a worker
thread allocates hard and the GUI thread processes events.

    python tests/gui/threads/gc_deadlock_scenario.py [--unprotected] [--seconds S]

With the app's remedy (denoise_gui.threads.gc_on_gui_thread) it prints "ok" and exits 0. With
``--unprotected`` (the code before the fix: automatic collection on any thread) the worker's collector
destroys a QObject whose sender, a QAction of a QMenu, the GUI thread is destroying at the same time:
on the 2-core VM it deadlocks within about two seconds (``~QObject`` waiting for the GIL on the worker,
``runDeletionInMainThread -> ~QMenu -> ~QAction`` waiting for its mutex on the GUI thread); the
faulthandler then prints both stacks and ends the process with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import gc
import sys
import threading
import time

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from denoise_gui.threads.gc_on_gui_thread import collect_on_gui_thread


class Litter:
    """A context menu whose actions signal a plain QObject, all reachable only through a cycle."""

    def __init__(self) -> None:
        self.myself = self
        self.menu = QMenu()  # a widget: Shiboken deletes it on the GUI thread whoever drops it
        self.receiver = QObject()  # a plain QObject: deleted on the thread that drops it
        for i in range(5):
            action = QAction(f"item {i}", self.menu)  # made in Python: its virtuals need the GIL
            self.menu.addAction(action)
            action.triggered.connect(self.receiver.deleteLater)


def allocate(stop: threading.Event) -> None:
    """A worker that keeps what it allocates for a while (as an import or a training step does)."""
    while not stop.is_set():
        kept = [(i,) for i in range(20_000)]
        del kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unprotected", action="store_true",
                        help="automatic collection on any thread (before the fix)")
    parser.add_argument("--seconds", type=float, default=6.0, help="how long to litter (default 6)")
    parser.add_argument("--hang-after", type=float, default=30.0, help="dump the stacks and exit 1 after this long")
    args = parser.parse_args(argv)
    faulthandler.dump_traceback_later(args.hang_after, exit=True)
    app = QApplication.instance() or QApplication([])
    worker_collections = 0

    def watch(phase: str, info: dict[str, int]) -> None:
        nonlocal worker_collections
        if phase == "start" and threading.current_thread() is not threading.main_thread():
            worker_collections += 1

    gc.callbacks.append(watch)
    stop = threading.Event()
    worker = threading.Thread(target=allocate, args=(stop,), name="allocating-worker")
    guard = contextlib.nullcontext() if args.unprotected else collect_on_gui_thread(interval_ms=20)
    with guard:
        worker.start()
        began = time.monotonic()
        while time.monotonic() - began < args.seconds:
            for _ in range(40):
                Litter()
            pause = time.monotonic()
            while time.monotonic() - pause < 0.05:  # the GUI thread delivering events, as TrainJob.deliver does
                app.processEvents()
                time.sleep(0.0002)
        stop.set()
        worker.join()
    faulthandler.cancel_dump_traceback_later()
    print(f"ok: {worker_collections} collections on the worker thread", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
