"""Plot axes that read: whole-number epoch ticks, and log ticks at 1-2-5 steps with plain labels."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg

LOG_STEPS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0))


class IntegerAxis(pg.AxisItem):
    """Ticks on whole numbers only while ``integer`` is on (epochs); pyqtgraph's otherwise. No SI prefix."""

    def __init__(self, orientation: str, **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.integer = True
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """pyqtgraph's spacings, none finer than 1 while integer."""
        spacings = super().tickSpacing(minVal, maxVal, size)
        if not self.integer:
            return spacings
        unique: list[tuple[float, float]] = []
        for spacing, offset in spacings:
            item = (max(spacing, 1.0), offset if spacing >= 1 else 0.0)
            if item not in unique:
                unique.append(item)
        return unique

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Whole numbers without decimals while integer."""
        if self.integer:
            return [f"{round(v):d}" for v in values]
        return list(super().tickStrings(values, scale, spacing))


def log_ticks(low: float, high: float, max_ticks: int = 8) -> list[float]:
    """Tick positions (log10 units) between ``low`` and ``high`` (log10 units) at 1, 1-2-5 or 1…9 × 10^k."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    chosen: list[float] = []
    for steps in reversed(LOG_STEPS):  # finest first; keep the finest that is not crowded
        ticks = [math.log10(m) + k for k in range(math.floor(low), math.ceil(high) + 1) for m in steps]
        ticks = [t for t in ticks if low <= t <= high]
        if len(ticks) <= max_ticks:
            chosen = ticks
            if len(ticks) >= 2:
                break
    if not chosen:  # too many decades even for one tick each: every n-th decade
        stride = math.ceil((math.floor(high) - math.ceil(low) + 1) / max_ticks)
        chosen = [float(k) for k in range(math.ceil(low), math.floor(high) + 1, max(stride, 1))]
    if len(chosen) < 2:  # less than a step of range: plain linear ticks on the values
        values = [10**low, 10**high]
        raw = (values[1] - values[0]) / 4 or 1e-30
        power = 10 ** math.floor(math.log10(raw))
        spacing = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        start = math.ceil(values[0] / spacing) * spacing
        chosen = [math.log10(v) for v in (start + i * spacing for i in range(8)) if 0 < v <= values[1]]
    return chosen


def format_value(value: float) -> str:
    """Short plain number: 0.02, 0.005, 1.5e-05, 3000."""
    return f"{value:.3g}"


class ReadableLogAxis(pg.AxisItem):
    """A left axis whose log mode labels 1-2-5 ticks as plain numbers (never a lone '10^-2')."""

    def __init__(self, orientation: str = "left", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """In log mode, 1-2-5 ticks as major ticks; pyqtgraph's otherwise."""
        if not self.logMode:
            return list(super().tickValues(minVal, maxVal, size))
        ticks = log_ticks(min(minVal, maxVal), max(minVal, maxVal), max(2, int(size / 30)))
        return [(1.0, ticks)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Plain numbers (in log mode the values are log10 units)."""
        if self.logMode:
            return [format_value(10**v) for v in values]
        return list(super().tickStrings(values, scale, spacing))
