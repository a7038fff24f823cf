"""The optimiser steps of one epoch, one at a time, honouring pause and stop between them.

A generator, so that the trainer keeps the run's position (its step count, which a hard
interrupt or a failure in the middle of an epoch saves) and decides what each step means:
events, divergence, the end of the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nnkit.denoise.data import PairData
from nnkit.denoise.distributed import Group
from nnkit.denoise.engines import Engine
from nnkit.denoise.run_control import RunControl
from nnkit.denoise.step_timer import StepTimer
from nnkit.layer_stats import LayerReport


@dataclass(frozen=True)
class TrainedStep:
    """One optimiser step taken: its loss (before the update), its batch and its time."""

    loss: float
    batch_size: int  # this process's images
    seconds: float  # pauses left out
    report: LayerReport | None  # per-layer statistics, on the steps that ask for them


def epoch_steps(
    engine: Engine,
    data: PairData,
    epoch: int,
    *,
    batch_size: int,
    group: Group | None,
    skip: int,
    first_step: int,
    inspect_every: int,
    timer: StepTimer,
    control: RunControl,
    stop_requested: Callable[[], bool],
) -> Iterator[TrainedStep | None]:
    """Take the steps of ``epoch`` after the first ``skip`` batches (done by the session resumed); yields each step,
    or None (and ends) when a stop is requested. ``first_step``: steps taken before this epoch's first."""
    params = engine.parameter_tensors()
    timer.restart()
    batches = data.epoch_batches(epoch, batch_size)
    if group is not None:
        batches = group.shard(batches)
    step = first_step
    for index, (x, y) in enumerate(batches):
        if index < skip:
            timer.restart()
            continue
        waited = control.wait_if_paused()
        if stop_requested():
            yield None
            return
        report: LayerReport | None = None
        if inspect_every > 0 and (step + 1) % inspect_every == 0:  # a run with inspect_every=0 pays only this test
            loss, report = engine.inspect_step(x, y, before=[t.clone() for t in params])
        else:
            loss = engine.train_step(x, y)
        yield TrainedStep(loss, x.shape[0], timer.lap(waited), report)
        step += 1
