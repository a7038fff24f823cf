"""Batches produced ahead of time in a background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Produce ``items`` in a background thread, up to ``depth`` ahead (torch releases the GIL).

    The order and values are those of ``items``; an exception there is raised here; closing
    or abandoning the returned iterator stops the thread.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be at least 1, got {depth}")
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as exc:
            offer(_Failure(exc))
            return
        offer(_END)

    thread = threading.Thread(target=work, name="nnkit-data-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
