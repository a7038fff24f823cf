"""The torch.nn engine: trains the nnkit model's torch.nn twin with autograd and torch.optim.

This is the one file of nnkit.denoise allowed torch.nn and autograd (its name says "twin"):
it exists to compare nnkit with PyTorch step by step, from the same initial weights on
the same batches. The nnkit model is kept in step with the twin by ``sync_model()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines.base import Engine, optimizer_hyperparameters, predict_chunks
from nnkit.denoise.models import PadToMultiple, reflect_index, torch_dtype
from nnkit.reference import register_twin, to_torch


class TorchPadToMultiple(torch.nn.Module):
    """Twin of PadToMultiple: the same reflect indices, autograd for the backward pass."""

    def __init__(self, layer: PadToMultiple) -> None:
        super().__init__()
        self.inner = to_torch(layer.inner)
        self.multiple = layer.multiple

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        hp, wp = (-(-s // self.multiple) * self.multiple for s in (h, w))
        if (hp, wp) == (h, w):
            return self.inner(x)
        rows, cols = reflect_index(h, hp, x.device), reflect_index(w, wp, x.device)
        return self.inner(x.index_select(2, rows).index_select(3, cols))[:, :, :h, :w]


register_twin(PadToMultiple, lambda m: TorchPadToMultiple(m))  # type: ignore[arg-type]


def twin_of(model: Module) -> torch.nn.Module:
    """The torch.nn twin of a denoising model (nnkit.reference.to_torch, knowing PadToMultiple)."""
    return to_torch(model)


class TorchMaskedLoss(torch.nn.Module):
    """The blind-spot loss with autograd: MSE or L1 on the hidden pixels of a packed target (channel -1 = mask)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def forward(self, pred: Tensor, packed: Tensor) -> Tensor:
        target, mask = packed[:, :-1], packed[:, -1:].expand_as(pred)
        diff = (pred - target) * mask
        per_element = diff.square() if self.kind == "mse" else diff.abs()
        return per_element.sum() / mask.sum().clamp(min=1.0)


def make_torch_optimizer(config: RunConfig, params: list[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """torch.optim.SGD or Adam (single-tensor algorithm, as nnkit's) with the config's hyperparameters."""
    kind = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
    return kind(params, **optimizer_hyperparameters(config), foreach=False)


class TorchEngine(Engine):
    """Trains ``to_torch(model)`` with autograd; ``sync_model()`` copies its weights into the nnkit model."""

    def __init__(self, config: RunConfig, model: Module, device: torch.device) -> None:
        self.device = device
        self.dtype = torch_dtype(config.dtype)
        self.model = model.to(device=device, dtype=self.dtype)
        self.twin = twin_of(model).to(device=device, dtype=self.dtype)
        self.twin.load_state_dict(dict(model.state_dict()))
        self.loss_fn: torch.nn.Module = torch.nn.MSELoss() if config.loss == "mse" else torch.nn.L1Loss()
        if config.target == "self":
            self.loss_fn = TorchMaskedLoss(config.loss)
        self.optimizer = make_torch_optimizer(config, list(self.twin.parameters()))
        self._names = list(model.state_dict())

    def train_step(self, x: Tensor, y: Tensor) -> float:
        x = x.to(device=self.device, dtype=self.dtype, non_blocking=True)
        y = y.to(device=self.device, dtype=self.dtype, non_blocking=True)
        self.twin.train()
        with torch.enable_grad():
            self.optimizer.zero_grad(set_to_none=False)
            loss = self.loss_fn(self.twin(x), y)
            loss.backward()
            self.optimizer.step()
        return float(loss.detach())

    def predict(self, x: Tensor) -> Tensor:
        self.twin.eval()
        try:
            with torch.no_grad():
                return predict_chunks(x, self.twin, self.device, self.dtype)
        finally:
            self.twin.train()

    def parameter_tensors(self) -> list[Tensor]:
        state = dict(self.twin.named_parameters())
        return [state[name].data for name in self._names]

    def model_state(self) -> dict[str, Tensor]:
        state = dict(self.twin.named_parameters())
        return {name: state[name].detach() for name in self._names}

    def sync_model(self) -> None:
        self.model.load_state_dict(self.model_state())

    def optimizer_state(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def set_learning_rate(self, lr: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(lr)

    def load_optimizer_state(self, state: Mapping[str, Any]) -> None:
        # torch.optim keeps the given tensors when dtype and device already fit: copy them, never share
        per_param = {
            index: {k: v.detach().clone() if isinstance(v, Tensor) else v for k, v in entry.items()}
            for index, entry in state["state"].items()
        }
        self.optimizer.load_state_dict({"state": per_param, "param_groups": [dict(g) for g in state["param_groups"]]})
