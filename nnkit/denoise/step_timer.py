"""Timing a run: the smoothed time of a step (for each ``Step``'s images per second) and the run's training time."""

from __future__ import annotations

import time

from nnkit.denoise.run_control import RunControl


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


class RunClock:
    """Training time of a whole run (earlier sessions of a resumed run included), pauses left out."""

    def __init__(self, before_s: float, control: RunControl) -> None:
        self.before_s = before_s  # training time of the run before this session (resumed runs)
        self._control = control  # counts the seconds paused
        self._session_start: float | None = None

    def start(self) -> None:
        """This session's training starts now."""
        self._session_start = time.perf_counter()

    def session_s(self) -> float:
        """Training time of this session so far."""
        assert self._session_start is not None
        return time.perf_counter() - self._session_start - self._control.paused_s

    def elapsed(self) -> float:
        """Training time of the whole run so far: ``before_s`` until the session starts."""
        if self._session_start is None:
            return self.before_s
        return self.before_s + time.perf_counter() - self._session_start - self._control.paused_s
