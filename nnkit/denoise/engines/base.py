"""The Engine interface: one optimiser step and batched prediction for a model, whatever trains it.

An engine owns the model on its device and dtype and the optimiser; the trainer only calls
``train_step``, ``predict`` and the state methods below. The engines themselves:
``nnkit_engine.NnkitEngine`` (hand-written backward passes, nnkit's optimisers, no autograd),
``twin.TorchEngine`` (the model's torch.nn twin with autograd and torch.optim, for comparison)
and ``lockstep.LockstepEngine`` (both side by side); ``make_engine`` in the package picks one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from nnkit.denoise.config import RunConfig
from nnkit.layer_stats import LayerReport

PREDICT_PIXELS = 1 << 17  # pixels per prediction chunk: bounds the memory of predict() (~0.5 GB for unet32 on CPU)


def predict_chunks(x: Tensor, run: Any, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Apply ``run`` to ``x`` in chunks of at most PREDICT_PIXELS pixels; result on ``x``'s device, float32."""
    if x.dim() != 4:
        raise ValueError(f"predict: expected (N, 3, H, W) input, got {tuple(x.shape)}")
    per_chunk = max(1, PREDICT_PIXELS // max(1, x.shape[-1] * x.shape[-2]))
    outs = []
    for start in range(0, x.shape[0], per_chunk):
        chunk = x[start : start + per_chunk].to(device=device, dtype=dtype)
        outs.append(run(chunk).to(device=x.device, dtype=torch.float32))
    return torch.cat(outs)


class Engine(ABC):
    """One optimiser step at a time on (input, target) batches, and prediction without training."""

    device: torch.device
    dtype: torch.dtype

    @abstractmethod
    def train_step(self, x: Tensor, y: Tensor) -> float:
        """One step on a batch; returns the loss before the update."""

    def inspect_step(self, x: Tensor, y: Tensor, before: Sequence[Tensor] | None = None) -> tuple[float, LayerReport]:
        """train_step, reporting per-layer statistics (nnkit.layer_stats); ``before``: the weights now, if copied."""
        raise NotImplementedError(f"{type(self).__name__} has no per-layer statistics (use engine 'nnkit')")

    @abstractmethod
    def predict(self, x: Tensor) -> Tensor:
        """The model's output for ``x`` (N, 3, H, W), in eval mode, no training, batched to bound memory."""

    @abstractmethod
    def parameter_tensors(self) -> list[Tensor]:
        """The live tensors of the trained parameters, in state_dict order (for snapshots)."""

    @abstractmethod
    def model_state(self) -> dict[str, Tensor]:
        """The trained weights by state_dict name (live tensors: clone to keep)."""

    @abstractmethod
    def optimizer_state(self) -> dict[str, Any]:
        """The optimiser's state_dict (tensors and plain numbers)."""

    @abstractmethod
    def load_optimizer_state(self, state: Mapping[str, Any]) -> None:
        """Restore the optimiser's state_dict."""

    @abstractmethod
    def set_learning_rate(self, lr: float) -> None:
        """Use ``lr`` from the next step on (e.g. a resumed run continued with a lower rate)."""

    def sync_model(self) -> None:
        """Make the nnkit model hold the trained weights (needed only when another model is trained)."""
        return None

    def load_model_state(self, state: Mapping[str, Tensor]) -> None:
        """Copy weights into the trained parameters."""
        for t, name in zip(self.parameter_tensors(), self.model_state(), strict=True):
            t.copy_(state[name])


def optimizer_hyperparameters(config: RunConfig) -> dict[str, Any]:
    """The keyword arguments of SGD or Adam (nnkit's and torch.optim's alike) for ``config.optimizer``."""
    common = {"lr": config.lr, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        return {**common, "momentum": config.momentum, "nesterov": config.nesterov}
    return {**common, "betas": (config.beta1, config.beta2), "eps": config.eps}
