"""Element-wise activations: ReLU, LeakyReLU, Sigmoid, Tanh, each backward beside its forward."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nnkit.layers._checks import expect_grad
from nnkit.module import Module


class _Elementwise(Module):
    """Base of the activations: keeps one cached tensor and checks grad_output against it."""

    def __init__(self) -> None:
        super().__init__()
        self._saved: Tensor | None = None

    def _saved_for(self, grad_output: Tensor) -> Tensor:
        if self._saved is None:
            raise self._no_forward_error()
        expect_grad(self._short_name(), grad_output, tuple(self._saved.shape))
        return self._saved

    def _moved(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        self._saved = None


class ReLU(_Elementwise):
    """max(x, 0); subgradient 0 at 0 (as torch)."""

    def forward(self, x: Tensor) -> Tensor:
        self._saved = x > 0
        return x.clamp(min=0)

    def backward(self, grad_output: Tensor) -> Tensor:
        # a product with the 0/1 mask: the same numbers as where(mask, g, 0) for finite g, and several
        # times faster than torch.where on CPU for small tensors (only a non-finite g at an inactive
        # unit differs: NaN instead of 0, in a run that has diverged anyway)
        return grad_output * self._saved_for(grad_output)


class LeakyReLU(_Elementwise):
    """x for x > 0, negative_slope * x otherwise (gradient negative_slope at 0, as torch)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float)) or not math.isfinite(
            negative_slope
        ):
            raise TypeError(f"LeakyReLU: negative_slope must be a finite number, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        slope = self.negative_slope
        if 0.0 <= slope <= 1.0:
            # the slope of each element, 1 or negative_slope exactly (sign(x) in {-1, 0, 1}, or 0 for NaN,
            # clamped below at the slope), kept for backward: x * factor and g * factor give
            # where(x > 0, x, x * slope)'s numbers, several times faster on CPU, and three kernels in all
            factor = x.sign().clamp_(min=slope)
            self._saved = factor
            return x * factor
        mask = x > 0
        self._saved = mask
        return torch.where(mask, x, x * slope)

    def backward(self, grad_output: Tensor) -> Tensor:
        saved = self._saved_for(grad_output)
        if saved.dtype != torch.bool:
            return grad_output * saved
        return torch.where(saved, grad_output, grad_output * self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(_Elementwise):
    """1 / (1 + exp(-x)), stable for large |x|; gradient y(1 - y) from the cached output."""

    def forward(self, x: Tensor) -> Tensor:
        y = torch.sigmoid(x)
        self._saved = y
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        y = self._saved_for(grad_output)
        return grad_output * y * (1 - y)


class Tanh(_Elementwise):
    """tanh(x); gradient 1 - y^2 from the cached output."""

    def forward(self, x: Tensor) -> Tensor:
        y = torch.tanh(x)
        self._saved = y
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        y = self._saved_for(grad_output)
        return grad_output * (1 - y * y)
