"""Where a curve diverged, and the y-range that shows every other curve well (plain numpy, no Qt).

A run that blows up (SGD with a learning rate of 10) produces losses of 1e6…inf that would
squash every other curve into a flat line at the bottom. The plots instead take their y-range
from the values before each curve diverged, draw the diverged part clipped to the top of that
range, and mark where the clipping starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

BLOWUP = 10.0  # a value this many times above the curve's early maximum counts as diverged
EARLY = 10  # at most this many of a curve's first finite values (and a fifth of them) define its early maximum
PADDING = 0.05


def divergence_start(values: np.ndarray) -> int:
    """Index of the first diverged value (non-finite, or BLOWUP × the early maximum); len(values) if none."""
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    bad = ~finite
    finite_values = values[finite]
    early = finite_values[: max(1, min(EARLY, finite_values.size // 5))]
    if early.size:
        peak = float(np.max(np.abs(early)))
        if peak > 0:
            bad |= finite & (np.abs(values) > BLOWUP * peak)
    hits = np.flatnonzero(bad)
    return int(hits[0]) if hits.size else len(values)


def value_range(curves: Iterable[np.ndarray], log: bool = False,
                starts: Sequence[int | None] | None = None) -> tuple[float, float] | None:
    """(low, high) over the finite, not-diverged values of all curves (log10 units when ``log``), padded.

    ``starts`` gives, per curve, where it counts as diverged when the caller knows better than its values
    (a run that diverged by its validation PSNR, its loss high but not blown up); None: by its values."""
    pieces = []
    for index, values in enumerate(curves):
        values = np.asarray(values, dtype=float)
        start = starts[index] if starts is not None else None
        kept = values[: divergence_start(values) if start is None else start]
        kept = kept[np.isfinite(kept)]
        if log:
            kept = np.log10(kept[kept > 0])
        if kept.size:
            pieces.append(kept)
    if not pieces:
        return None
    every = np.concatenate(pieces)
    low, high = float(every.min()), float(every.max())
    span = high - low
    if span <= 0 or not math.isfinite(span):
        span = abs(high) * 0.1 or (0.1 if log else 1.0)
    return low - PADDING * span, high + PADDING * span


def clip_to(values: np.ndarray, top: float, log: bool = False, start: int | None = None) -> tuple[np.ndarray, int]:
    """The curve with diverged values (from ``start``, else as its values say) shown at ``top`` (data units),
    and the index where that starts."""
    values = np.asarray(values, dtype=float)
    start = divergence_start(values) if start is None else min(start, len(values))
    if start >= len(values):
        return values, start
    shown = values.copy()
    tail = shown[start:]
    tail[~np.isfinite(tail) | (tail > top)] = top
    if log:
        tail[tail <= 0] = top
    return shown, start
