"""Gradient checks: central differences (float64) for any nnkit Module or loss, with readable failures.

``check_model`` (nnkit.model_check, re-exported here) checks a whole model layer by layer.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from nnkit.loss import Loss
from nnkit.module import Module


class GradcheckError(AssertionError):
    """An analytic gradient differs from the central-difference one; the message says where."""


def numeric_grad(f: Callable[[], Tensor], t: Tensor, eps: float = 1e-6) -> Tensor:
    """d f() / d t by central differences, perturbing t in place (restored afterwards)."""
    grad = torch.zeros_like(t)
    flat, gflat = t.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = f().item()
        flat[i] = old - eps
        minus = f().item()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def compare(what: str, analytic: Tensor, numeric: Tensor, atol: float = 1e-6, rtol: float = 1e-5) -> float:
    """Return the max relative error, or raise GradcheckError naming the worst element."""
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"{what}: analytic shape {tuple(analytic.shape)} != numeric {tuple(numeric.shape)}")
    err = (analytic - numeric).abs()
    bad = err > atol + rtol * numeric.abs()
    scale = numeric.abs().max().clamp(min=1e-12)
    rel = (err.max() / scale).item() if err.numel() else 0.0
    if bool(bad.any()):
        worst = int((err - rtol * numeric.abs()).argmax())
        index = tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), analytic.shape))
        raise GradcheckError(
            f"{what}: {int(bad.sum())} of {err.numel()} elements off; worst at index {index}: "
            f"analytic {analytic.view(-1)[worst].item():.10g} vs numeric {numeric.view(-1)[worst].item():.10g} "
            f"(max relative error {rel:.3g})"
        )
    return rel


def _require_float64(what: str, t: Tensor) -> None:
    if t.dtype != torch.float64:
        raise TypeError(f"gradcheck needs float64 tensors; {what} is {t.dtype} (use .to(dtype=torch.float64))")


def gradcheck(
    module: Module, x: Tensor, *, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0
) -> dict[str, float]:
    """Check dL/dx and every dL/dparam of L = sum(module(x) * r) for a fixed random r.

    Returns the max relative error per tensor ('input', then parameter names); raises
    GradcheckError on a mismatch.
    """
    _require_float64("the input", x)
    for name, p in module.named_parameters():
        _require_float64(f"parameter {name!r}", p.data)
    x = x.clone()
    gen = torch.Generator(device=x.device).manual_seed(seed)
    y = module.forward(x)
    r = torch.randn(y.shape, generator=gen, dtype=y.dtype, device=y.device)
    saved = {name: p.grad.clone() for name, p in module.named_parameters()}
    module.zero_grad()
    grad_x = module.backward(r)
    analytic = {name: p.grad.clone() for name, p in module.named_parameters()}
    for name, p in module.named_parameters():
        p.grad.copy_(saved[name])

    def f() -> Tensor:
        return (module.forward(x) * r).sum()

    label = repr(module).split("\n")[0]
    errors = {"input": compare(f"{label}: input gradient", grad_x, numeric_grad(f, x, eps), atol, rtol)}
    for name, p in module.named_parameters():
        numeric = numeric_grad(f, p.data, eps)
        errors[name] = compare(f"{label}: gradient of {name!r}", analytic[name], numeric, atol, rtol)
    return errors


def gradcheck_loss(
    loss_fn: Loss, pred: Tensor, target: Tensor, *, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-5
) -> float:
    """Check loss.backward() against central differences of loss_fn.forward(pred, target)."""
    _require_float64("pred", pred)
    pred = pred.clone()
    loss_fn.forward(pred, target)
    analytic = loss_fn.backward()
    return compare(
        f"{loss_fn!r}: gradient wrt pred",
        analytic,
        numeric_grad(lambda: loss_fn.forward(pred, target), pred, eps),
        atol,
        rtol,
    )


from nnkit.model_check import GradcheckRow, check_model, deliberately_wrong  # noqa: E402  (the whole-model table)

__all__ = [
    "GradcheckError",
    "GradcheckRow",
    "check_model",
    "compare",
    "deliberately_wrong",
    "gradcheck",
    "gradcheck_loss",
    "numeric_grad",
]
