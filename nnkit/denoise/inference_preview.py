"""ProgressiveResult: a denoised photo as it fills in, tile by tile, for viewers of long inferences.

It starts as a copy of the input; ``paste`` (the ``on_tile`` callback of tiled inference) writes
each tile's own output over it as soon as it is computed, and ``eta_s`` says how long the rest
should take at the pace so far. The final, blended result comes from ``denoise_array`` itself;
this canvas is only for showing progress (its overlaps are unblended).
"""

from __future__ import annotations

import math
import time

import numpy as np
from torch import Tensor


class ProgressiveResult:
    """A uint8 (H, W, 3) canvas that tiles are pasted into; safe to read from another thread while written."""

    def __init__(self, image: np.ndarray) -> None:
        self.canvas = np.array(image, dtype=np.uint8, copy=True, order="C")
        self.started = time.perf_counter()
        self.done = 0
        self.total = 0

    def paste(self, top: int, left: int, tile: Tensor) -> None:
        """Write one tile's output ((3, h, w) float in [0, 1]) at (top, left)."""
        _, h, w = tile.shape
        values = tile.detach().to("cpu").clamp(0.0, 1.0).mul(255.0).round_().byte().permute(1, 2, 0).numpy()
        self.canvas[top : top + h, left : left + w] = values

    def progress(self, done: int, total: int) -> None:
        """Record how many tiles are done (the ``progress`` callback of tiled inference)."""
        self.done, self.total = done, total

    def eta_s(self) -> float:
        """Seconds left at the pace so far (nan before the first tile)."""
        if self.done <= 0 or self.total <= 0:
            return math.nan
        elapsed = time.perf_counter() - self.started
        return elapsed / self.done * (self.total - self.done)
