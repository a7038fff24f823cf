"""torch.nn twins of nnkit models: the one place in nnkit core allowed torch.nn.

`to_torch(model)` builds a torch.nn.Module with the same architecture and equal
state_dict keys, shapes and values (on the device and dtype of the nnkit weights).
Weights move back with `nnkit_model.load_state_dict(twin.state_dict())`. Other modules
(e.g. nnkit.denoise models) add twins for their own layer types with `register_twin`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nnkit.layers import (
    Conv2d,
    LeakyReLU,
    NearestUpsampling,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    SkipConcat,
    Tanh,
    TransposeConv2d,
)
from nnkit.module import Module


class TorchTransposeConv2d(nn.Module):
    """Twin of TransposeConv2d: nearest upsampling then conv2d, with .weight/.bias on it."""

    def __init__(self, layer: TransposeConv2d) -> None:
        super().__init__()
        self.scale_factor = layer.scale_factor
        self.padding = layer.padding
        self.weight = nn.Parameter(layer.weight.data.detach().clone())
        self.bias = nn.Parameter(layer.bias.data.detach().clone()) if layer.bias is not None else None

    def forward(self, x: Tensor) -> Tensor:
        x = F.interpolate(x, scale_factor=self.scale_factor, mode="nearest")
        return F.conv2d(x, self.weight, self.bias, padding=self.padding)


class TorchSkipConcat(nn.Module):
    """Twin of SkipConcat: cat([x, inner(x)], dim=1)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.inner(x)], dim=1)


class TorchResidual(nn.Module):
    """Twin of Residual: x + inner(x)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return x + self.inner(x)


def _conv(m: Conv2d) -> nn.Module:
    return nn.Conv2d(
        m.in_channels,
        m.out_channels,
        m.kernel_size,
        stride=m.stride,
        padding=m.padding,
        dilation=m.dilation,
        bias=m.bias is not None,
    )


# Checked in order (isinstance), so subclasses come before their bases.
_TWINS: list[tuple[type[Module], Callable[[Module], nn.Module]]] = [
    (TransposeConv2d, lambda m: TorchTransposeConv2d(m)),  # type: ignore[arg-type]
    (Conv2d, lambda m: _conv(m)),  # type: ignore[arg-type]
    (NearestUpsampling, lambda m: nn.Upsample(scale_factor=m.scale_factor, mode="nearest")),  # type: ignore[attr-defined]
    (ReLU, lambda m: nn.ReLU()),
    (LeakyReLU, lambda m: nn.LeakyReLU(m.negative_slope)),  # type: ignore[attr-defined]
    (Sigmoid, lambda m: nn.Sigmoid()),
    (Tanh, lambda m: nn.Tanh()),
    (Sequential, lambda m: nn.Sequential(*(to_torch(c) for c in m.children()))),
    (SkipConcat, lambda m: TorchSkipConcat(to_torch(m.inner))),  # type: ignore[attr-defined]
    (Residual, lambda m: TorchResidual(to_torch(m.inner))),  # type: ignore[attr-defined]
]


def register_twin(layer_type: type[Module], make: Callable[[Module], nn.Module]) -> None:
    """Teach to_torch a new layer type (checked before the built-in ones)."""
    _TWINS.insert(0, (layer_type, make))


def to_torch(model: Module) -> nn.Module:
    """The torch.nn twin of an nnkit model, with equal state_dict keys, shapes and values."""
    for layer_type, make in _TWINS:
        if isinstance(model, layer_type):
            twin = make(model)
            break
    else:
        raise TypeError(f"to_torch: no torch.nn twin for nnkit layer {type(model).__name__} ({model!r})")
    params = model.parameters()
    if params:
        twin.to(device=params[0].data.device, dtype=params[0].data.dtype)
    state = model.state_dict()
    if set(twin.state_dict()) != set(state):
        raise TypeError(
            f"to_torch: twin of {type(model).__name__} has keys {sorted(twin.state_dict())}, nnkit has {sorted(state)}"
        )
    twin.load_state_dict(state)
    twin.train(model.training)
    return twin
