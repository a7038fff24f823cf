"""Training engines: one optimiser step and batched prediction for a model, behind one interface.

``NnkitEngine`` trains the nnkit model with its hand-written backward passes and nnkit's
optimisers (no autograd). ``nnkit.denoise.engines.twin.TorchEngine`` trains the model's torch.nn twin
with autograd and torch.optim, from the same initial weights, so the two can be compared
step by step on the same batches. ``make_engine`` picks one from the RunConfig.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.models import torch_dtype
from nnkit.graph import GraphedTrainStep
from nnkit.layer_stats import LayerReport, inspect_step
from nnkit.loss import L1Loss, Loss, MSELoss
from nnkit.optim import SGD, Adam, Optimizer

PREDICT_PIXELS = 1 << 17  # pixels per prediction chunk: bounds the memory of predict() (~0.5 GB for unet32 on CPU)


def resolve_device(name: str) -> torch.device:
    """torch.device for a RunConfig.device ('auto', 'cpu', 'cuda', 'cuda:N'); ConfigError if it is not there."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError("device", f"{name} not found: no CUDA device (torch {torch.__version__})")
        # plain 'cuda' is the current device: 0, or GPU LOCAL_RANK in a data-parallel run (set by distributed.join)
        index = int(name.split(":", 1)[1]) if ":" in name else torch.cuda.current_device()
        if index >= count:
            raise ConfigError("device", f"{name} not found: {count} CUDA device(s)")
        return torch.device("cuda", index)
    raise ConfigError("device", f"unknown device {name!r} (use 'auto', 'cpu', 'cuda' or 'cuda:N')")


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


def make_loss(config: RunConfig) -> Loss:
    """MSE or L1; for blind-spot runs (target 'self') the same on the hidden pixels of packed targets."""
    if config.target == "self":
        from nnkit.denoise.data.blindspot import PackedMaskedLoss

        return PackedMaskedLoss(config.loss)
    return MSELoss() if config.loss == "mse" else L1Loss()


def make_optimizer(config: RunConfig, model: Module, *, capturable: bool = False) -> Optimizer:
    """nnkit SGD or Adam over the model's parameters, with the config's hyperparameters.

    ``capturable`` keeps Adam's step count on the device, as a CUDA graph needs.
    """
    if config.optimizer == "sgd":
        return SGD(model.parameters(), **optimizer_hyperparameters(config))
    return Adam(model.parameters(), **optimizer_hyperparameters(config), capturable=capturable)


class NnkitEngine(Engine):
    """Trains the nnkit model itself: forward, hand-written backward, nnkit optimiser.

    On CUDA with ``config.cuda_graph`` the whole step is captured once as a CUDA graph
    (nnkit.graph.GraphedTrainStep) and replayed; a batch of another shape runs eagerly.
    """

    def __init__(self, config: RunConfig, model: Module, device: torch.device) -> None:
        self.device = device
        self.dtype = torch_dtype(config.dtype)
        self.model = model.to(device=device, dtype=self.dtype)
        self.loss_fn = make_loss(config)
        self.use_graph = config.cuda_graph and device.type == "cuda"
        self.optimizer = make_optimizer(config, model, capturable=self.use_graph)
        self._graphed: GraphedTrainStep | None = None
        # data-parallel runs average gradients (and the loss) here, between backward and step
        self.grad_sync: Callable[[Tensor], None] | None = None

    def gradient_tensors(self) -> list[Tensor]:
        """The live gradient buffers, in parameter order."""
        return [p.grad for p in self.model.parameters()]

    def _step(self, x: Tensor, y: Tensor) -> Tensor:
        self.model.train()
        pred = self.model.forward(x)
        loss = self.loss_fn.forward(pred, y)
        self.optimizer.zero_grad()
        self.model.backward(self.loss_fn.backward())
        if self.grad_sync is not None:
            self.grad_sync(loss)
        self.optimizer.step()
        return loss

    def train_step(self, x: Tensor, y: Tensor) -> float:
        x = x.to(device=self.device, dtype=self.dtype, non_blocking=True)
        y = y.to(device=self.device, dtype=self.dtype, non_blocking=True)
        if not self.use_graph:
            return float(self._step(x, y))
        if self._graphed is None:
            self._graphed = GraphedTrainStep(
                self.model, self.loss_fn, self.optimizer, x, y, after_backward=self.grad_sync
            )
        if x.shape != self._graphed.x.shape or y.shape != self._graphed.y.shape:
            return float(self._step(x, y))
        return float(self._graphed(x, y))

    def inspect_step(self, x: Tensor, y: Tensor, before: Sequence[Tensor] | None = None) -> tuple[float, LayerReport]:
        # always eager, even where the step is a CUDA graph: the probes are Python around each layer
        x = x.to(device=self.device, dtype=self.dtype, non_blocking=True)
        y = y.to(device=self.device, dtype=self.dtype, non_blocking=True)
        loss, report = inspect_step(self.model, lambda: self._step(x, y), before=before)
        return float(loss), report

    def predict(self, x: Tensor) -> Tensor:
        self.model.eval()
        try:
            return predict_chunks(x, self.model.forward, self.device, self.dtype)
        finally:
            self.model.train()

    def parameter_tensors(self) -> list[Tensor]:
        return [p.data for p in self.model.parameters()]

    def model_state(self) -> dict[str, Tensor]:
        return dict(self.model.state_dict())

    def optimizer_state(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def set_learning_rate(self, lr: float) -> None:
        self.optimizer.lr = float(lr)
        self._graphed = None  # a captured graph holds the old rate

    def load_optimizer_state(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state)
        self._graphed = None  # the optimiser's tensors were replaced: capture again


def make_engine(config: RunConfig, model: Module) -> Engine:
    """The engine named by ``config.engine`` for ``model`` (moved to ``config.device`` and ``config.dtype``)."""
    device = resolve_device(config.device)
    if config.lockstep:
        from nnkit.denoise.engines.lockstep import LockstepEngine

        return LockstepEngine(config, model, device)
    if config.engine == "torch":
        from nnkit.denoise.engines.twin import TorchEngine

        return TorchEngine(config, model, device)
    return NnkitEngine(config, model, device)
