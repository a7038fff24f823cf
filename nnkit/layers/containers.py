"""Containers: Sequential, SkipConcat (y = cat[x, inner(x)]) and Residual (y = x + inner(x))."""

from __future__ import annotations

from collections.abc import Iterator
from typing import overload

import torch
from torch import Tensor

from nnkit.layers._checks import expect_grad
from nnkit.layers.fused import UpsampledConv, execution_plan
from nnkit.module import Module, ShapeError


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse. State keys '0.weight', ... as torch.

    A NearestUpsampling directly followed by a stride-1 Conv2d (the report's way of writing a
    transpose convolution) runs as one sub-pixel convolution, as TransposeConv2d does: the same
    numbers, faster (nnkit.layers.fused).
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        self._plan: list[Module | UpsampledConv] | None = None  # what the last forward ran (see nnkit.layers.fused)
        for layer in layers:
            self.append(layer)

    def append(self, layer: Module) -> Sequential:
        """Add a layer at the end (named by its index)."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential takes nnkit Modules, got {type(layer).__name__}")
        setattr(self, str(len(self._modules)), layer)
        return self

    def forward(self, x: Tensor) -> Tensor:
        """Run the layers in order; a NearestUpsampling followed by a Conv2d runs as one sub-pixel convolution."""
        plan = execution_plan(list(self._modules.values()))
        self._plan = plan
        for step in plan:
            x = step.forward(x)
        return x

    def backward(self, grad_output: Tensor) -> Tensor:
        """The steps of the last forward in reverse (before any forward, the layers themselves raise)."""
        steps = self._plan if self._plan is not None else list(self._modules.values())
        for step in reversed(steps):
            grad_output = step.backward(grad_output)
        return grad_output

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...
    def __getitem__(self, index: int | slice) -> Module | Sequential:
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*layers[index])
        try:
            return layers[index]
        except IndexError:
            raise IndexError(f"Sequential index {index} out of range for {len(layers)} layers") from None


class SkipConcat(Module):
    """y = cat([x, inner(x)], dim=1): a U-Net skip connection around `inner`."""

    def __init__(self, inner: Module) -> None:
        super().__init__()
        self.inner = inner
        self._split: int | None = None
        self._out_shape: tuple[int, ...] = ()

    def forward(self, x: Tensor) -> Tensor:
        y = self.inner.forward(x)
        if x.dim() != y.dim() or x.shape[0] != y.shape[0] or x.shape[2:] != y.shape[2:]:
            raise ShapeError(
                f"SkipConcat: inner output shape {tuple(y.shape)} cannot be concatenated with "
                f"input shape {tuple(x.shape)} along channels"
            )
        out = _concat_channels(x, y)
        self._split = x.shape[1]
        self._out_shape = tuple(out.shape)
        return out

    def backward(self, grad_output: Tensor) -> Tensor:
        if self._split is None:
            raise self._no_forward_error()
        expect_grad("SkipConcat", grad_output, self._out_shape)
        c = self._split
        return grad_output[:, :c] + self.inner.backward(grad_output[:, c:])


def _concat_channels(x: Tensor, y: Tensor) -> Tensor:
    """cat([x, y], dim=1); channels-last inputs (what nnkit's convolutions return) stay channels-last.

    For those, concatenating the (N, H, W, C) views along their last dimension is one dense copy,
    about 5x faster on the CPU than torch.cat along dim 1 of the NCHW views (same values).
    """
    if all(t.is_contiguous(memory_format=torch.channels_last) for t in (x, y)):
        return torch.cat([x.permute(0, 2, 3, 1), y.permute(0, 2, 3, 1)], dim=3).permute(0, 3, 1, 2)
    return torch.cat([x, y], dim=1)


class Residual(Module):
    """y = x + inner(x); inner must keep the shape."""

    def __init__(self, inner: Module) -> None:
        super().__init__()
        self.inner = inner
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, x: Tensor) -> Tensor:
        y = self.inner.forward(x)
        if y.shape != x.shape:
            raise ShapeError(f"Residual: inner output shape {tuple(y.shape)} differs from input shape {tuple(x.shape)}")
        self._out_shape = tuple(y.shape)
        return x + y

    def backward(self, grad_output: Tensor) -> Tensor:
        if self._out_shape is None:
            raise self._no_forward_error()
        expect_grad("Residual", grad_output, self._out_shape)
        return grad_output + self.inner.backward(grad_output)
