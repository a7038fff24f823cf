"""Learning-rate schedules: the rate at given epochs, and the trainer applying it."""

from __future__ import annotations

import itertools
import math

import pytest

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.events import Epoch
from nnkit.denoise.schedule import learning_rate
from nnkit.denoise.trainer import Trainer


def test_constant() -> None:
    cfg = RunConfig(lr=2e-3, epochs=5)
    assert [learning_rate(cfg, e) for e in range(1, 6)] == [2e-3] * 5


def test_cosine_with_warmup() -> None:
    cfg = RunConfig(lr=1e-3, lr_min=1e-5, epochs=12, lr_schedule="cosine", warmup_epochs=2)
    assert learning_rate(cfg, 1) == pytest.approx(5e-4)
    assert learning_rate(cfg, 2) == pytest.approx(1e-3)
    assert learning_rate(cfg, 3) == pytest.approx(1e-3)  # the cosine starts at lr after the warm-up
    # epochs 3..12 span the half cosine: epoch 3 + k sits at k/9 of it
    assert learning_rate(cfg, 7) == pytest.approx(1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + math.cos(math.pi * 4 / 9)))
    assert learning_rate(cfg, 12) == pytest.approx(1e-5)  # the last epoch ends at lr_min
    values = [learning_rate(cfg, e) for e in range(2, 13)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_cosine_single_epoch_trains_at_lr() -> None:
    assert learning_rate(RunConfig(lr=1e-3, epochs=1, lr_schedule="cosine"), 1) == pytest.approx(1e-3)


def test_step() -> None:
    cfg = RunConfig(lr=1.0, epochs=100, lr_schedule="step", lr_step_epochs=10, lr_step_gamma=0.5)
    assert [learning_rate(cfg, e) for e in (1, 10, 11, 20, 21, 35)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


def test_bad_epoch_and_fields() -> None:
    with pytest.raises(ValueError, match="epoch"):
        learning_rate(RunConfig(), 0)
    with pytest.raises(ConfigError, match="lr_schedule"):
        RunConfig(lr_schedule="exponential")
    with pytest.raises(ConfigError, match="lr_min"):
        RunConfig(lr=1e-3, lr_min=1e-2)
    with pytest.raises(ConfigError, match="lr_step_gamma"):
        RunConfig(lr_step_gamma=0.0)
    with pytest.raises(ConfigError, match="warmup_epochs"):
        RunConfig(warmup_epochs=-1)


def test_trainer_applies_the_schedule() -> None:
    cfg = RunConfig(
        arch="report",
        width=4,
        epochs=3,
        epoch_size=8,
        batch_size=8,
        device="cpu",
        lr_schedule="cosine",
        warmup_epochs=1,
    )
    epochs: list[Epoch] = []
    Trainer(cfg, lambda e: epochs.append(e) if isinstance(e, Epoch) else None).run()
    assert [e.lr for e in epochs[1:]] == pytest.approx([learning_rate(cfg, k) for k in (1, 2, 3)])
    assert epochs[-1].lr == 0.0
    assert all(0 < e.val_ssim < 1 for e in epochs)
