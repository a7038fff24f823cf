"""A fake trainer emitting the real event classes (tests only), for widget tests without the engine."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Preview, Started, Step
from nnkit.denoise.run_control import RunControl

DIVERGED = "loss became inf at step 3: lower the learning rate; the model keeps the last good weights"


class FakeTrainer(RunControl):
    """Steps every ``step_s`` seconds; honours stop/pause (the real RunControl's); diverges when lr >= 1."""

    def __init__(self, config: RunConfig, on_event: Any, *, checkpoint_path: Any = None, resume_from: Any = None,
                 steps_per_epoch: int = 5, step_s: float = 0.005) -> None:
        self.config = config
        self.on_event = on_event
        self.checkpoint_path = checkpoint_path
        self.steps_per_epoch = steps_per_epoch
        self.step_s = step_s
        super().__init__()

    def save_checkpoint(self, path: str | Path) -> Path:
        Path(path).write_bytes(b"fake")
        return Path(path)

    def run(self) -> Finished:
        cfg = self.config
        self.on_event(Started(cfg, "cpu", 123, self.steps_per_epoch, 32, 2, 20.0))
        step, best = 0, float("nan")
        t0 = time.monotonic()
        for epoch in range(1, cfg.epochs + 1):
            for _ in range(self.steps_per_epoch):
                self.wait_if_paused()
                if self.stop_requested():
                    return self._finish("stopped", "stopped", epoch, step, best)
                time.sleep(self.step_s)
                step += 1
                loss = float("inf") if cfg.lr >= 1 and step > 2 else 0.1 / step
                self.on_event(Step(step, epoch, loss, 100.0))
                if loss == float("inf"):
                    return self._finish("diverged", DIVERGED, epoch, step, best)
            psnr = 20.0 + epoch
            best = psnr
            self.on_event(Epoch(epoch, 0.01, psnr, time.monotonic() - t0, 1.0))
            img = np.full((2, 8, 8, 3), 100, np.uint8)
            self.on_event(Preview(epoch, img, img, img, [psnr, psnr]))
        return self._finish("done", "done", cfg.epochs, step, best)

    def _finish(self, reason: Any, message: str, epoch: int, step: int, best: float) -> Finished:
        path = None
        if self.checkpoint_path is not None:
            path = str(self.save_checkpoint(self.checkpoint_path))
        return Finished(reason, message, epoch, step, best, path)
