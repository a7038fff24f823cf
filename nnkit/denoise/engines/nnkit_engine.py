"""The nnkit engine: trains the nnkit model itself with its hand-written backward passes (no autograd)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines.base import Engine, optimizer_hyperparameters, predict_chunks
from nnkit.denoise.models import torch_dtype
from nnkit.graph import GraphedTrainStep
from nnkit.layer_stats import LayerReport, inspect_step
from nnkit.loss import L1Loss, Loss, MSELoss
from nnkit.optim import SGD, Adam, Optimizer


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
