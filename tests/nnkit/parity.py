"""Compare an nnkit layer with the same computation run through torch autograd."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from nnkit import Module

# Max relative error (max |a - b| / max |b|) allowed per dtype.
TOLERANCE = {torch.float64: 1e-10, torch.float32: 2e-5}


def rel_err(a: Tensor, b: Tensor) -> float:
    """max |a - b| / max |b| (absolute when b is all zeros)."""
    assert a.shape == b.shape, (tuple(a.shape), tuple(b.shape))
    if a.numel() == 0:
        return 0.0
    scale = float(b.abs().max()) or 1.0
    return float((a - b).abs().max()) / scale


def compare_layer(
    layer: Module,
    x: Tensor,
    torch_forward: Callable[[Tensor, dict[str, Tensor]], Tensor],
    seed: int = 0,
) -> dict[str, float]:
    """Forward values, input gradient and parameter gradients of `layer` against torch autograd."""
    params = {name: p.data.clone().requires_grad_() for name, p in layer.named_parameters()}
    xt = x.clone().requires_grad_()
    expected = torch_forward(xt, params)
    got = layer.forward(x.clone())
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(expected.shape, generator=gen, dtype=torch.float64).to(expected.dtype)
    expected.backward(g)
    layer.zero_grad()
    grad_x = layer.backward(g.clone())
    errors = {"forward": rel_err(got, expected.detach()), "input": rel_err(grad_x, xt.grad)}  # type: ignore[arg-type]
    for name, p in layer.named_parameters():
        errors[name] = rel_err(p.grad, params[name].grad)  # type: ignore[arg-type]
    tol = TOLERANCE[x.dtype]
    bad = {k: v for k, v in errors.items() if not v <= tol}
    assert not bad, f"{layer!r} differs from torch ({x.dtype}): {bad}"
    return errors
