"""A one-line progress printer for the console scripts (no tqdm needed).

On a terminal the line is redrawn in place (carriage return) at most every ``interval``
seconds; elsewhere (a pipe, a log file) only finished lines are written, so logs stay short.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


def format_duration(seconds: float, unknown: str = "--:--") -> str:
    """'1:02:03', '2:03', or ``unknown`` for an unknown (NaN, infinite, negative) duration."""
    if not math.isfinite(seconds) or seconds < 0:
        return unknown
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def bar(fraction: float, width: int = 20) -> str:
    """A text bar like '[#####.....]'."""
    fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
    filled = round(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


class ProgressLine:
    """Redraws one status line on a terminal; ``finish_line`` writes a permanent one."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True, interval: float = 0.2) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.live = enabled and bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self._last_draw = 0.0
        self._width = 0

    def update(self, text: str, *, force: bool = False) -> None:
        """Redraw the live line (terminals only), at most every ``interval`` seconds unless forced."""
        if not self.live:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def clear(self) -> None:
        """Erase the live line."""
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def finish_line(self, text: str) -> None:
        """Write ``text`` as a permanent line (replacing the live line)."""
        if not self.enabled:
            return
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
