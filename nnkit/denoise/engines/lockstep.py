"""Lockstep: the nnkit model and its torch.nn twin trained side by side, one step each on the same batch.

Both start from the same weights (the twin is built from the nnkit model) and take the same
batches with the same optimiser settings; after every step the relative difference of the two
losses and the largest relative difference of the weights say how far hand-written backprop and
autograd have drifted apart: in float64 they stay near 1e-15, in float32 rounding grows slowly.
The nnkit side is the model of record (checkpoints, predictions); the torch side is only watched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines.base import Engine
from nnkit.denoise.engines.nnkit_engine import NnkitEngine
from nnkit.denoise.engines.twin import TorchEngine
from nnkit.denoise.events import Lockstep
from nnkit.layer_stats import LayerReport


def relative_difference(a: float, b: float) -> float:
    """|a - b| / |b| (|a - b| when b is 0)."""
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


def weight_difference(ours: Mapping[str, Tensor], theirs: Mapping[str, Tensor]) -> float:
    """The largest, over tensors, of max |ours - theirs| / max |theirs|."""
    worst = 0.0
    for name, t in theirs.items():
        scale = float(t.abs().max()) if t.numel() else 0.0
        gap = float((ours[name] - t).abs().max()) if t.numel() else 0.0
        worst = max(worst, gap / scale if scale > 0 else gap)
    return worst


class LockstepEngine(Engine):
    """Trains an NnkitEngine and a TorchEngine of the same model in turn; ``last`` is the latest drift."""

    def __init__(self, config: RunConfig, model: Module, device: torch.device) -> None:
        self.nnkit = NnkitEngine(config, model, device)
        self.torch = TorchEngine(config, model, device)  # the twin copies the nnkit weights now
        self.device, self.dtype = self.nnkit.device, self.nnkit.dtype
        self.last: Lockstep | None = None
        self._step = 0

    def _compare(self, loss_nnkit: float, loss_torch: float) -> None:
        self._step += 1
        weights = weight_difference(self.nnkit.model_state(), self.torch.model_state())
        self.last = Lockstep(self._step, loss_nnkit, loss_torch, relative_difference(loss_nnkit, loss_torch), weights)

    def train_step(self, x: Tensor, y: Tensor) -> float:
        loss = self.nnkit.train_step(x, y)
        self._compare(loss, self.torch.train_step(x, y))
        return loss

    def inspect_step(self, x: Tensor, y: Tensor, before: Sequence[Tensor] | None = None) -> tuple[float, LayerReport]:
        loss, report = self.nnkit.inspect_step(x, y, before)
        self._compare(loss, self.torch.train_step(x, y))
        return loss, report

    def event(self, step: int) -> Lockstep:
        """The drift of the latest step, numbered as the trainer counts steps."""
        assert self.last is not None, "no lockstep step yet"
        last = self.last
        return Lockstep(step, last.loss_nnkit, last.loss_torch, last.loss_rel_diff, last.weight_rel_diff)

    def predict(self, x: Tensor) -> Tensor:
        return self.nnkit.predict(x)

    def parameter_tensors(self) -> list[Tensor]:
        return self.nnkit.parameter_tensors()

    def model_state(self) -> dict[str, Tensor]:
        return self.nnkit.model_state()

    def optimizer_state(self) -> dict[str, Any]:
        return self.nnkit.optimizer_state()

    def load_optimizer_state(self, state: Mapping[str, Any]) -> None:
        # the nnkit side resumes; the twin starts its optimiser afresh (its drift then shows that)
        self.nnkit.load_optimizer_state(state)

    def set_learning_rate(self, lr: float) -> None:
        self.nnkit.set_learning_rate(lr)
        self.torch.set_learning_rate(lr)
