"""Background priority for worker threads, so the GUI thread wins the CPU on a busy machine."""

from __future__ import annotations

import os
import sys
import threading

WORKER_NICE = int(os.environ.get("DENOISE_GUI_WORKER_NICE", "5"))


def lower_current_thread_priority(nice: int = WORKER_NICE) -> bool:
    """Raise this thread's nice value by ``nice`` (Linux: per thread, inherited by threads it
    starts, e.g. torch's OpenMP pool); True if done. Elsewhere it does nothing."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + nice, 19))
    except (OSError, AttributeError):
        return False
    return True
