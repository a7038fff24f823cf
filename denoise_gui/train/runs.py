"""RunRecord: what the app knows about one training run, live or from the runs library (plain Python, no Qt)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Started, Step

# Distinct, readable on a dark plot background (tab10-like).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
SMOOTHING = 0.9  # TensorBoard-style: weight of the running average (0 = raw, 0.99 = very smooth)


def smooth(values: Iterable[float], weight: float) -> list[float]:
    """Bias-corrected exponential moving average that steps over non-finite values (TensorBoard's)."""
    out: list[float] = []
    ema, count = 0.0, 0
    for value in values:
        if math.isfinite(value):
            ema = weight * ema + (1 - weight) * value
            count += 1
        out.append(ema / (1 - weight**count) if count and weight < 1 else (ema if count else math.nan))
    return out


@dataclass
class RunRecord:
    """Curves, best PSNR, timing and status of one run; fed by trainer events or read from disk."""

    run_id: int  # key within this window (rows, plot items)
    config: RunConfig
    status: str = "starting"
    steps: list[int] = field(default_factory=list)
    step_epochs: list[int] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)  # seconds since the run started, pauses excluded
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    epoch_steps: list[int] = field(default_factory=list)
    epoch_wall: list[float] = field(default_factory=list)
    psnrs: list[float] = field(default_factory=list)
    noisy_psnr: float = math.nan
    best_psnr: float = math.nan
    elapsed_s: float = 0.0
    smoothing: float = SMOOTHING
    _ema: float = 0.0
    _ema_count: int = 0
    started_at: float = field(default_factory=time.monotonic)
    started_wall: float = field(default_factory=time.time)  # when it ran (seconds since the epoch)
    paused_s: float = 0.0
    _paused_at: float | None = None
    checkpoint: str | None = None
    message: str = ""
    visible: bool = True
    number: int = 0  # unique in the runs library (0: not stored)
    folder: str = ""
    steps_per_epoch: int = 0
    stored: bool = False  # read from the library (not run in this window)
    metrics_loaded: bool = True

    @property
    def colour(self) -> str:
        """The run's colour in every plot and in the table."""
        return PALETTE[((self.number or self.run_id) - 1) % len(PALETTE)]

    @property
    def label(self) -> str:
        """Short name used in the legend and the table, unique in the library ('run 12')."""
        return f"run {self.number or self.run_id}"

    @property
    def running(self) -> bool:
        """Whether the run is still going in this window."""
        return self.status in ("starting", "running", "paused", "stopping")

    def describe_changes(self) -> str:
        """What differs from the defaults, e.g. 'lr=0.01, width=8' (or 'defaults')."""
        diff = self.config.differences()
        return ", ".join(f"{k}={_short(v)}" for k, v in diff.items()) or "defaults"

    # -- x axes --------------------------------------------------------------------------------
    def images_seen(self, steps: Iterable[int]) -> list[float]:
        """Training images seen after each of these steps (step × batch size)."""
        return [float(s * self.config.batch_size) for s in steps]

    # -- live events ---------------------------------------------------------------------------
    def on_started(self, event: Started) -> None:
        """The trainer is set up: remember the noisy-input PSNR floor."""
        self.status = "running"
        self.noisy_psnr = event.noisy_psnr
        self.steps_per_epoch = event.steps_per_epoch
        self.started_at = time.monotonic()
        self.paused_s = 0.0

    def pause(self) -> None:
        """The run paused: its wall-time axis stops."""
        if self._paused_at is None:
            self._paused_at = time.monotonic()

    def resume(self) -> None:
        """The run goes on."""
        if self._paused_at is not None:
            self.paused_s += time.monotonic() - self._paused_at
            self._paused_at = None

    def running_time(self) -> float:
        """Seconds since the run started, pauses excluded."""
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return max(0.0, now - self.started_at - self.paused_s)

    def on_steps(self, events: tuple[Step, ...] | list[Step]) -> list[dict[str, Any]]:
        """Append a batch of steps to the curves; returns them as metrics records."""
        now = self.running_time()
        records = []
        for ev in events:
            self._add_step(ev.step, ev.epoch, now, ev.loss)
            records.append({"event": "step", "step": ev.step, "epoch": ev.epoch, "loss": ev.loss,
                            "images_per_s": ev.images_per_s, "wall_s": now})
        self.elapsed_s = now
        return records

    def _add_step(self, step: int, epoch: int, wall: float, loss: float) -> None:
        self.steps.append(step)
        self.step_epochs.append(epoch)
        self.wall_s.append(wall)
        self.losses.append(loss)
        if math.isfinite(loss):
            self._ema = self.smoothing * self._ema + (1 - self.smoothing) * loss
            self._ema_count += 1
        if self._ema_count and self.smoothing < 1:
            self.smoothed.append(self._ema / (1 - self.smoothing**self._ema_count))
        else:
            self.smoothed.append(math.nan)

    def set_smoothing(self, weight: float) -> None:
        """Recompute the smoothed curve with another weight (0 ≤ weight < 1)."""
        self.smoothing = weight
        self.smoothed = smooth(self.losses, weight)
        finite = [v for v in self.losses if math.isfinite(v)]
        self._ema_count = len(finite)
        self._ema = 0.0
        for value in finite:
            self._ema = weight * self._ema + (1 - weight) * value

    def on_epoch(self, event: Epoch) -> dict[str, Any]:
        """Append the epoch's validation PSNR; returns it as a metrics record."""
        self._add_epoch(event.epoch, self.steps[-1] if self.steps else 0, event.elapsed_s, event.val_psnr)
        self.elapsed_s = event.elapsed_s
        return {"event": "epoch", "epoch": event.epoch, "train_loss": event.train_loss, "val_psnr": event.val_psnr,
                "elapsed_s": event.elapsed_s, "eta_s": event.eta_s, "step": self.epoch_steps[-1]}

    def _add_epoch(self, epoch: int, step: int, wall: float, psnr: float) -> None:
        self.epochs.append(epoch)
        self.epoch_steps.append(step)
        self.epoch_wall.append(wall)
        self.psnrs.append(psnr)
        if math.isfinite(psnr) and not (psnr <= self.best_psnr):
            self.best_psnr = psnr

    def on_finished(self, event: Finished) -> None:
        """Record how the run ended and where its checkpoint is."""
        self.resume()
        self.status = event.reason
        self.message = event.message
        self.checkpoint = event.checkpoint
        self.elapsed_s = self.running_time()
        if math.isfinite(event.best_psnr):
            self.best_psnr = event.best_psnr

    # -- from the library --------------------------------------------------------------------
    def add_stored_steps(self, records: list[dict[str, Any]]) -> None:
        """Steps read from metrics.jsonl (wall time interpolated when the file has none)."""
        for record in records:
            step = int(record.get("step") or 0)
            wall = record.get("wall_s")
            loss = record.get("loss")
            self._add_step(step, int(record.get("epoch") or 0), float(wall) if wall is not None else math.nan,
                           float(loss) if loss is not None else math.inf)

    def add_stored_epoch(self, record: dict[str, Any]) -> None:
        """An epoch read from metrics.jsonl."""
        psnr = record.get("val_psnr")
        step = record.get("step")
        best = self.best_psnr
        self._add_epoch(int(record.get("epoch") or 0), int(step) if step is not None else (self.steps or [0])[-1],
                        float(record.get("elapsed_s") or math.nan), float(psnr) if psnr is not None else math.nan)
        if math.isfinite(best):
            self.best_psnr = max(best, self.best_psnr) if math.isfinite(self.best_psnr) else best


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
