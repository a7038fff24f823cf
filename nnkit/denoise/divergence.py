"""When a run has diverged, and which weights it keeps then.

A run diverges when its training loss becomes NaN or Inf, its weights or validation output
become non-finite, or, from the second epoch on, its validation PSNR is more than
``BELOW_NOISY_DB`` below that of the noisy inputs themselves *and* as far below that of its
starting weights, and no better than after the epoch before: the model then does worse than
doing nothing, has lost ground and stopped gaining, which is what a learning rate too high
does to every architecture (the report network at SGD lr 10 falls from 13.8 dB to 8.86 dB
after its first epoch and stays there exactly, the noisy input being at 20.3 dB).

The two extra conditions are there because the first alone calls runs that are learning
"diverged": small or young networks start below their noisy input (13.8 dB against 20.3 dB
for the report network) and take many epochs to pass it; the report network with Adam at lr
1e-3 goes 13.8, 11.5, 13.6, 17.4 dB over its first epochs of 200 crops, and a width-4 one at
lr 1e-2 wobbles 13.7, 14.5, 13.9, 13.5, 14.7 dB (measured, CPU). The first epoch is spared,
as a model from random weights may start below its input.

``BestWeights`` keeps a copy of the best *validated* weights, the starting weights
included, so a diverged run keeps weights never worse than those it started from;
``go_back_to_best`` puts them (or a resumed run's better best checkpoint) back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from nnkit.denoise.engines import Engine

BELOW_NOISY_DB = 1.0
FIRST_CHECKED_EPOCH = 2


def below_noisy_message(
    epoch: int, val_psnr: float, previous_psnr: float, start_psnr: float, noisy_psnr: float
) -> str | None:
    """Why the run diverged, if its validation PSNR after ``epoch`` is too far below the noisy input's."""
    if epoch < FIRST_CHECKED_EPOCH or not math.isfinite(noisy_psnr) or not math.isfinite(val_psnr):
        return None
    if val_psnr >= noisy_psnr - BELOW_NOISY_DB or val_psnr > previous_psnr or val_psnr >= start_psnr - BELOW_NOISY_DB:
        return None
    return (
        f"the validation PSNR is {val_psnr:.2f} dB after epoch {epoch}, more than {BELOW_NOISY_DB:g} dB "
        f"below the noisy input's {noisy_psnr:.2f} dB and the starting weights' {start_psnr:.2f} dB, "
        f"and no better than after epoch {epoch - 1} ({previous_psnr:.2f} dB)"
    )


class BestWeights:
    """A copy of the parameters that gave the best validation score so far (higher is better: a PSNR,
    or minus a validation loss), with the epoch and step."""

    def __init__(self) -> None:
        self.psnr = -math.inf
        self.epoch = -1
        self.step = -1
        self._copy: list[Tensor] = []

    def offer(self, params: list[Tensor], psnr: float, epoch: int, step: int) -> bool:
        """Keep ``params`` if ``psnr`` is finite and better than the best so far; returns whether kept."""
        if not math.isfinite(psnr) or psnr <= self.psnr:
            return False
        if not self._copy:
            self._copy = [t.detach().clone() for t in params]
        else:
            torch._foreach_copy_(self._copy, params)
        self.psnr, self.epoch, self.step = psnr, epoch, step
        return True

    @property
    def kept(self) -> bool:
        return bool(self._copy)

    def restore_into(self, params: list[Tensor]) -> None:
        """Copy the kept weights back into ``params``."""
        if self._copy:
            torch._foreach_copy_(params, self._copy)


@dataclass(frozen=True)
class KeptWeights:
    """The weights a diverged run went back to: their (epoch, step), None when there were none; in words."""

    position: tuple[int, int] | None
    description: str


def go_back_to_best(
    best: BestWeights,
    engine: Engine,
    restore_best_file: Callable[[float], tuple[int, int] | None],
    *,
    by_psnr: bool,
    best_file_psnr: float,
) -> KeptWeights:
    """Put the best validated weights back into ``engine``'s model after a divergence.

    ``restore_best_file`` loads the run's best checkpoint when its score (``best_file_psnr``) beats
    the one kept in memory: an earlier session of a resumed run may have validated better weights.
    """
    restored = restore_best_file(best.psnr) if by_psnr else None
    if restored is not None:
        return KeptWeights(
            restored, f"the model keeps the best validated weights (epoch {restored[0]}, {best_file_psnr:.2f} dB)"
        )
    if best.kept:
        best.restore_into(engine.parameter_tensors())
        engine.sync_model()
        value = f"{best.psnr:.2f} dB" if by_psnr else f"validation loss {-best.psnr:.5f}"
        return KeptWeights(
            (best.epoch, best.step), f"the model keeps the best validated weights (epoch {best.epoch}, {value})"
        )
    return KeptWeights(None, "no validated weights to go back to")
