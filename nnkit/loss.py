"""Losses: forward(pred, target) -> 0-dim tensor; backward() -> dL/dpred (mean over all elements)."""

from __future__ import annotations

from torch import Tensor

from nnkit.module import ShapeError


class Loss:
    """Base of the losses: checks shapes and keeps what backward needs."""

    def __init__(self) -> None:
        self._saved: Tensor | None = None

    def __call__(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.forward(pred, target)

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError(type(self).__name__)

    def backward(self) -> Tensor:
        raise NotImplementedError(type(self).__name__)

    def _diff(self, pred: Tensor, target: Tensor) -> Tensor:
        if pred.shape != target.shape:
            raise ShapeError(
                f"{type(self).__name__}: pred shape {tuple(pred.shape)} and target shape {tuple(target.shape)} differ"
            )
        return pred - target

    def _saved_or_raise(self) -> Tensor:
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return self._saved

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MSELoss(Loss):
    """mean((pred - target)^2); gradient 2 (pred - target) / N, N the number of elements."""

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        diff = self._diff(pred, target)
        self._saved = diff
        return diff.square().mean()

    def backward(self) -> Tensor:
        diff = self._saved_or_raise()
        return diff * (2.0 / diff.numel())


class L1Loss(Loss):
    """mean(|pred - target|); gradient sign(pred - target) / N (0 where equal, as torch)."""

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        diff = self._diff(pred, target)
        self._saved = diff
        return diff.abs().mean()

    def backward(self) -> Tensor:
        diff = self._saved_or_raise()
        return diff.sign() * (1.0 / diff.numel())
