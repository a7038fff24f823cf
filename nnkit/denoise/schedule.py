"""Learning-rate schedules: the rate of each epoch from a RunConfig.

The rate is set once per epoch (epochs count from 1), before its first step:

- warm-up (any schedule, ``warmup_epochs`` = W > 0): epoch e <= W trains at lr · e / W, so the
  rate climbs linearly and reaches ``lr`` in epoch W;
- ``constant``: ``lr`` after the warm-up;
- ``cosine``: half a cosine from ``lr`` (the first epoch after the warm-up) down to ``lr_min``
  (the last epoch, ``epochs``);
- ``step``: ``lr`` · ``lr_step_gamma`` ** ((e - 1) // ``lr_step_epochs``), counting from epoch 1
  (the warm-up, if any, replaces the first epochs' values).

Per epoch rather than per step: a CUDA-graphed step holds its rate, and an epoch-wise rate
is captured again only when it changes.
"""

from __future__ import annotations

import math

from nnkit.denoise.config import RunConfig


def learning_rate(config: RunConfig, epoch: int) -> float:
    """The learning rate of ``epoch`` (1-based) under ``config``'s schedule."""
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise ValueError(f"epoch must be an integer of at least 1, got {epoch!r}")
    lr, warmup = config.lr, config.warmup_epochs
    if epoch <= warmup:
        return lr * epoch / warmup
    if config.lr_schedule == "cosine":
        span = config.epochs - warmup - 1
        t = min(1.0, (epoch - warmup - 1) / span) if span > 0 else 0.0  # one epoch left: lr
        return config.lr_min + (lr - config.lr_min) * 0.5 * (1.0 + math.cos(math.pi * t))
    if config.lr_schedule == "step":
        return lr * config.lr_step_gamma ** ((epoch - 1) // config.lr_step_epochs)
    return lr
