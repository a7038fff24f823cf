"""ProgressPanel: epoch and step, images/s, elapsed and ETA of the current run."""

from __future__ import annotations

import math
import time

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from denoise_gui.widgets.durations import format_duration
from nnkit.denoise.events import Epoch, Started, Step


class ProgressPanel(QWidget):
    """A progress bar over all steps of the run and a line of figures."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setFormat("%p%")
        self.label = QLabel("Ready", self)
        self.label.setObjectName("progressLabel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label, 2)
        self.epochs = 0
        self.steps_per_epoch = 0
        self.step = 0
        self.epoch = 0
        self.first_step = -1
        self.images_per_s = math.nan
        self.eta_s = math.nan
        self.started_at = time.monotonic()

    def start(self, epochs: int) -> None:
        """A run is being set up."""
        self.epochs = epochs
        self.step = self.epoch = 0
        self.first_step = -1
        self.images_per_s = self.eta_s = math.nan
        self.started_at = time.monotonic()
        self.bar.setRange(0, 0)  # busy until Started says how many steps
        self.label.setText("Loading data and building the model…")

    def on_started(self, event: Started) -> None:
        """Now the number of steps is known."""
        self.steps_per_epoch = event.steps_per_epoch
        self.epochs = event.config.epochs
        self.started_at = time.monotonic()
        self.bar.setRange(0, max(1, self.steps_per_epoch * self.epochs))
        self.bar.setValue(0)
        self._refresh()

    def on_steps(self, events: tuple[Step, ...]) -> None:
        """Advance to the last of these steps; estimate the time left from the pace so far."""
        if not events:
            return
        last = events[-1]
        self.step, self.epoch, self.images_per_s = last.step, last.epoch, last.images_per_s
        if self.first_step < 0:
            self.first_step = events[0].step - 1
        total = self.steps_per_epoch * self.epochs
        done = self.done_steps
        if total and done > 0:
            self.eta_s = (time.monotonic() - self.started_at) / done * max(total - done, 0)
            self.bar.setValue(min(done, self.bar.maximum()))
        self._refresh()

    def on_epoch(self, event: Epoch) -> None:
        """An epoch ended: the trainer's ETA is the reference."""
        self.epoch = event.epoch
        self.eta_s = event.eta_s
        self._refresh()

    def finish(self, text: str) -> None:
        """The run ended."""
        if self.bar.maximum() == 0:
            self.bar.setRange(0, 1)
        self.label.setText(text)

    @property
    def done_steps(self) -> int:
        """Steps done in this run (a resumed run counts from its first step)."""
        return self.step - self.first_step if self.first_step >= 0 else 0

    def _refresh(self) -> None:
        elapsed = time.monotonic() - self.started_at
        rate = f"{self.images_per_s:.0f} img/s" if math.isfinite(self.images_per_s) else "– img/s"
        self.label.setText(
            f"Epoch {max(self.epoch, 1)}/{self.epochs} · step {self.done_steps}/{self.steps_per_epoch * self.epochs}"
            f" · {rate} · elapsed {format_duration(elapsed)} · ETA {format_duration(self.eta_s)}"
        )
