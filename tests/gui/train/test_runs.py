"""RunRecord: smoothing, best PSNR, what differs from the defaults."""

from __future__ import annotations

import math

import pytest

from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets.durations import format_duration
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Step


def test_smoothed_loss_is_unbiased_and_skips_non_finite() -> None:
    run = RunRecord(1, RunConfig())
    run.on_steps([Step(i, 1, 2.0, 10.0) for i in range(1, 4)])
    assert run.smoothed == pytest.approx([2.0, 2.0, 2.0])
    run.on_steps([Step(4, 1, math.inf, 10.0)])
    assert run.smoothed[-1] == pytest.approx(2.0) and run.losses[-1] == math.inf


def test_best_psnr_and_finish() -> None:
    run = RunRecord(2, RunConfig(lr=0.01, width=8))
    for epoch, value in enumerate([20.0, 23.0, math.nan, 22.0], start=1):
        run.on_epoch(Epoch(epoch, 0.1, value, float(epoch), 1.0))
    assert run.best_psnr == 23.0
    run.on_finished(Finished("stopped", "stopped", 4, 40, 23.0, "x.safetensors"))
    assert (run.status, run.checkpoint) == ("stopped", "x.safetensors")
    assert run.describe_changes() == "width=8, lr=0.01"
    assert RunRecord(3, RunConfig()).describe_changes() == "defaults"
    assert run.colour != RunRecord(3, RunConfig()).colour


def test_format_duration() -> None:
    assert (format_duration(65), format_duration(3723), format_duration(math.nan)) == ("1:05", "1:02:03", "–")
