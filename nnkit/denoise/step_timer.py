"""The smoothed time of a training step, for the images-per-second of each ``Step`` event."""

from __future__ import annotations

import time


class StepTimer:
    """The smoothed time of a training step, pauses left out."""

    def __init__(self) -> None:
        self.step_time: float | None = None
        self.steps = 0  # timed this session
        self._last = time.perf_counter()

    def restart(self) -> None:
        """Time the next step from now (a new epoch, a skipped batch)."""
        self._last = time.perf_counter()

    def lap(self, waited: float) -> float:
        """A step ended: the whole step (making the batch, training, events) less ``waited``; the smoothed time."""
        now = time.perf_counter()
        dt, self._last = now - self._last - waited, now
        self.steps += 1
        # the first step of a session pays one-time costs (first forward of the process, allocations):
        # the smoothed rate starts again from the second step, so that it does not linger in the average
        if self.step_time is None or self.steps == 2:
            self.step_time = dt
        else:
            self.step_time = 0.9 * self.step_time + 0.1 * dt
        return self.step_time
