"""RunRecord: what the app remembers about one training run of the session (plain Python, no Qt)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Started, Step

# Distinct, readable on a dark plot background (tab10-like).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
SMOOTHING = 0.1  # weight of the newest loss in the (bias-corrected) exponential moving average


@dataclass
class RunRecord:
    """Curves, best PSNR, timing and status of one run; fed by trainer events."""

    run_id: int
    config: RunConfig
    status: str = "starting"
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    noisy_psnr: float = math.nan
    best_psnr: float = math.nan
    elapsed_s: float = 0.0
    _ema: float = 0.0
    _ema_count: int = 0
    started_at: float = field(default_factory=time.monotonic)
    checkpoint: str | None = None
    message: str = ""
    visible: bool = True

    @property
    def colour(self) -> str:
        """The run's colour in every plot and in the table."""
        return PALETTE[(self.run_id - 1) % len(PALETTE)]

    @property
    def label(self) -> str:
        """Short name used in the legend."""
        return f"run {self.run_id}"

    def describe_changes(self) -> str:
        """What differs from the defaults, e.g. 'lr=0.01, width=8' (or 'defaults')."""
        diff = self.config.differences()
        return ", ".join(f"{k}={_short(v)}" for k, v in diff.items()) or "defaults"

    def on_started(self, event: Started) -> None:
        """The trainer is set up: remember the noisy-input PSNR floor."""
        self.status = "running"
        self.noisy_psnr = event.noisy_psnr
        self.started_at = time.monotonic()

    def on_steps(self, events: tuple[Step, ...] | list[Step]) -> None:
        """Append a batch of steps to the raw and smoothed loss curves."""
        for ev in events:
            loss = ev.loss
            self.steps.append(ev.step)
            self.losses.append(loss)
            if math.isfinite(loss):
                self._ema = (1 - SMOOTHING) * self._ema + SMOOTHING * loss
                self._ema_count += 1
            if self._ema_count:
                self.smoothed.append(self._ema / (1 - (1 - SMOOTHING) ** self._ema_count))
            else:
                self.smoothed.append(math.nan)
        self.elapsed_s = time.monotonic() - self.started_at

    def on_epoch(self, event: Epoch) -> None:
        """Append the epoch's validation PSNR."""
        self.epochs.append(event.epoch)
        self.psnrs.append(event.val_psnr)
        self.elapsed_s = event.elapsed_s
        if math.isfinite(event.val_psnr) and not (event.val_psnr <= self.best_psnr):
            self.best_psnr = event.val_psnr

    def on_finished(self, event: Finished) -> None:
        """Record how the run ended and where its checkpoint is."""
        self.status = event.reason
        self.message = event.message
        self.checkpoint = event.checkpoint
        self.elapsed_s = time.monotonic() - self.started_at
        if math.isfinite(event.best_psnr):
            self.best_psnr = event.best_psnr


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
