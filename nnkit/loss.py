"""Losses: forward(pred, target[, mask]) -> 0-dim tensor; backward() -> dL/dpred (mean over the scored elements)."""

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


class MaskedLoss:
    """Base of the masked losses: ``forward(pred, target, mask)`` scores only where ``mask`` is set.

    ``mask`` (bool or 0/1 floats) broadcasts to ``pred`` (e.g. (N, 1, H, W) for whole pixels);
    the loss is the mean over the masked elements, and ``backward()`` is zero everywhere else.
    An empty mask gives a loss of 0 and a zero gradient (the count is floored at 1, so that no
    host-side test is needed and the step stays capturable as a CUDA graph).
    """

    def __init__(self) -> None:
        self._saved: tuple[Tensor, Tensor] | None = None

    def __call__(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        return self.forward(pred, target, mask)

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        raise NotImplementedError(type(self).__name__)

    def backward(self) -> Tensor:
        raise NotImplementedError(type(self).__name__)

    def _masked_diff(self, pred: Tensor, target: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """(mask · (pred - target), 1 / number of masked elements), the weight as a 0-dim tensor."""
        if pred.shape != target.shape:
            raise ShapeError(
                f"{type(self).__name__}: pred shape {tuple(pred.shape)} and target shape {tuple(target.shape)} differ"
            )
        try:
            weight = mask.to(dtype=pred.dtype).expand_as(pred)
        except RuntimeError:
            raise ShapeError(
                f"{type(self).__name__}: mask shape {tuple(mask.shape)} does not broadcast to {tuple(pred.shape)}"
            ) from None
        inv_count = weight.sum().clamp(min=1.0).reciprocal()
        return (pred - target) * weight, inv_count

    def _saved_or_raise(self) -> tuple[Tensor, Tensor]:
        if self._saved is None:
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return self._saved

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MaskedMSELoss(MaskedLoss):
    """sum(m (pred - target)^2) / sum(m); gradient 2 m (pred - target) / sum(m)."""

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        diff, inv_count = self._masked_diff(pred, target, mask)
        self._saved = (diff, inv_count)
        return diff.square().sum() * inv_count

    def backward(self) -> Tensor:
        diff, inv_count = self._saved_or_raise()
        return diff * (2.0 * inv_count)


class MaskedL1Loss(MaskedLoss):
    """sum(m |pred - target|) / sum(m); gradient m sign(pred - target) / sum(m)."""

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        diff, inv_count = self._masked_diff(pred, target, mask)
        self._saved = (diff, inv_count)
        return diff.abs().sum() * inv_count

    def backward(self) -> Tensor:
        diff, inv_count = self._saved_or_raise()
        return diff.sign() * inv_count
