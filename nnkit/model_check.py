"""check_model: the backward pass of a whole nnkit model checked layer by layer, as a table.

Each row compares one piece of the hand-written backward with torch autograd on its torch.nn
twin (nnkit.gradcheck_reference) and with central differences in float64; see ``check_model``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from nnkit.gradcheck_reference import twin_vjp
from nnkit.layer_stats import leaf_layers
from nnkit.loss import Loss, MSELoss
from nnkit.module import Module


@dataclass(frozen=True)
class GradcheckRow:
    """One line of check_model's table: the max relative errors of one piece of the model's backward."""

    name: str  # 'input', or a layer's dotted name
    kind: str  # 'input' or the layer's class name
    vs_autograd: float  # against torch autograd on the twin (nan: no twin for this layer)
    vs_numeric: float  # against central differences in float64 on sampled entries
    ok: bool


AUTOGRAD_TOL = 1e-8  # float64 nnkit and autograd agree to ~1e-15; a wrong backward is off by far more
NUMERIC_TOL = 1e-5  # central differences with eps=1e-6 in float64 are good to ~1e-9 on smooth pieces


def check_model(
    model: Module,
    x: Tensor,
    target: Tensor | None = None,
    loss: Loss | None = None,
    *,
    samples: int = 6,
    eps: float = 1e-6,
    seed: int = 0,
) -> list[GradcheckRow]:
    """Check every piece of ``model``'s backward on input ``x``; one row per leaf layer, and one for the input.

    Works on a float64 copy of the model (``model`` itself is left as it is). The objective is
    ``loss(model(x), target)`` (MSELoss when only ``target`` is given), or sum(model(x) * r) for a
    fixed random r when neither is. Each layer's row checks that layer alone, locally: its input
    gradient and its parameters' gradients, given the input and the output gradient it met in the
    model, against autograd on its torch.nn twin (``vs_autograd``) and against central differences
    on ``samples`` random entries of each tensor (``vs_numeric``). So one wrong backward shows as one
    red row. The ``input`` row checks dL/dx of the whole model as its containers (Sequential, skips,
    residuals, padding) route it, with every layer's own backward replaced by autograd's: it is red
    when the wiring is wrong. Errors are relative to the largest gradient entry of each tensor.
    """
    work = copy.deepcopy(model).to(dtype=torch.float64).train()
    device = work.parameters()[0].data.device if work.parameters() else x.device
    x = x.detach().to(device=device, dtype=torch.float64).clone()
    gen = torch.Generator().manual_seed(seed)
    leaves = leaf_layers(work)
    seen: dict[str, tuple[Tensor, Tensor]] = {}  # layer -> (its input, the gradient at its output)
    with _Recorder(leaves, seen):
        y = work.forward(x)
        if target is None and loss is None:
            r = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(device)

            def objective(out: Tensor) -> Tensor:
                return (out * r).sum()

            grad_y = r
        else:
            if target is None:
                raise ValueError("check_model: a loss needs a target")
            loss_fn = loss if loss is not None else MSELoss()
            goal = target.detach().to(device=device, dtype=torch.float64)

            def objective(out: Tensor) -> Tensor:
                return loss_fn.forward(out, goal)

            objective(y)
            grad_y = loss_fn.backward()
        work.zero_grad()
        work.backward(grad_y)
    missing = [name for name, _ in leaves if name not in seen]
    if missing:
        raise ValueError(f"check_model: layers {missing} took no part in the forward and backward pass")
    rows = [_check_wiring(work, leaves, seen, x, grad_y, lambda: objective(work.forward(x)), samples, eps, gen)]
    rows += [_check_layer(name, layer, *seen[name], samples, eps, gen) for name, layer in leaves]
    return rows


class _Recorder:
    """While entered, each leaf's forward input and backward gradient are copied into ``seen``."""

    def __init__(self, leaves: list[tuple[str, Module]], seen: dict[str, tuple[Tensor, Tensor]]) -> None:
        self.leaves, self.seen = leaves, seen
        self.inputs: dict[str, Tensor] = {}

    def __enter__(self) -> _Recorder:
        for name, layer in self.leaves:
            forward, backward = layer.forward, layer.backward

            def fwd(x: Tensor, name: str = name, forward: Callable[[Tensor], Tensor] = forward) -> Tensor:
                self.inputs[name] = x.detach().clone(memory_format=torch.contiguous_format)
                return forward(x)

            def bwd(g: Tensor, name: str = name, backward: Callable[[Tensor], Tensor] = backward) -> Tensor:
                self.seen[name] = (self.inputs[name], g.detach().clone(memory_format=torch.contiguous_format))
                return backward(g)

            object.__setattr__(layer, "forward", fwd)
            object.__setattr__(layer, "backward", bwd)
        return self

    def __exit__(self, *exc: object) -> None:
        for _, layer in self.leaves:
            layer.__dict__.pop("forward", None)
            layer.__dict__.pop("backward", None)


def _relative(analytic: Tensor, reference: Tensor, scale: Tensor) -> float:
    """max |analytic - reference| / max |scale| (absolute where the scale is all zeros)."""
    if analytic.numel() == 0:
        return 0.0
    top = float(scale.abs().max())
    return float((analytic - reference).abs().max()) / (top if top > 0 else 1.0)


def _numeric_sample(
    f: Callable[[], Tensor], t: Tensor, analytic: Tensor, scale: Tensor, samples: int, eps: float, gen: torch.Generator
) -> float:
    """Relative error of ``analytic`` against central differences of f() at ``samples`` random entries of t."""
    if t.numel() == 0:
        return 0.0
    flat = t.view(-1)  # t is contiguous: perturbing the view perturbs t
    picks = torch.randperm(t.numel(), generator=gen)[:samples].tolist()
    worst = 0.0
    for i in picks:
        old = flat[i].item()
        flat[i] = old + eps
        plus = f().item()
        flat[i] = old - eps
        minus = f().item()
        flat[i] = old
        worst = max(worst, abs(analytic.reshape(-1)[i].item() - (plus - minus) / (2 * eps)))
    top = float(scale.abs().max())
    return worst / (top if top > 0 else 1.0)


def _verdict(vs_autograd: float, vs_numeric: float) -> bool:
    autograd_ok = math.isnan(vs_autograd) or vs_autograd <= AUTOGRAD_TOL  # nan: no twin, numeric decides
    return autograd_ok and vs_numeric <= NUMERIC_TOL  # a nan numeric error fails


def _check_layer(
    name: str, layer: Module, x: Tensor, g: Tensor, samples: int, eps: float, gen: torch.Generator
) -> GradcheckRow:
    """One layer on its own: its backward of g at input x against autograd and central differences."""
    x = x.clone()
    params = dict(layer.named_parameters())
    for p in params.values():
        p.grad.zero_()
    layer.forward(x)
    analytic = {"input": layer.backward(g.clone()).detach().clone(), **{k: p.grad.clone() for k, p in params.items()}}
    try:
        tx, tparams = twin_vjp(layer, x, g)
        truth: dict[str, Tensor] | None = {"input": tx, **tparams}
    except TypeError:  # no twin for this layer: the numeric check alone
        truth = None
    scale = truth if truth is not None else analytic
    vs_autograd = (
        max(_relative(analytic[k], truth[k], scale[k]) for k in analytic) if truth is not None else float("nan")
    )

    def f() -> Tensor:
        return (layer.forward(x) * g).sum()

    tensors = {"input": x, **{k: p.data for k, p in params.items()}}
    vs_numeric = max(_numeric_sample(f, t, analytic[k], scale[k], samples, eps, gen) for k, t in tensors.items())
    return GradcheckRow(name, type(layer).__name__, vs_autograd, vs_numeric, _verdict(vs_autograd, vs_numeric))


def _check_wiring(
    model: Module,
    leaves: list[tuple[str, Module]],
    seen: dict[str, tuple[Tensor, Tensor]],
    x: Tensor,
    grad_y: Tensor,
    objective: Callable[[], Tensor],
    samples: int,
    eps: float,
    gen: torch.Generator,
) -> GradcheckRow:
    """dL/dx through the model's containers, every leaf's backward replaced by autograd's."""
    model.forward(x)
    for name, layer in leaves:
        layer_input = seen[name][0]
        try:
            twin_vjp(layer, layer_input, seen[name][1])
        except TypeError:
            continue  # no twin: its own backward stays (its row says whether that is right)

        def by_autograd(g: Tensor, layer: Module = layer, layer_input: Tensor = layer_input) -> Tensor:
            return twin_vjp(layer, layer_input, g)[0]

        object.__setattr__(layer, "backward", by_autograd)
    try:
        grad_x = model.backward(grad_y)
    finally:
        for _, layer in leaves:
            layer.__dict__.pop("backward", None)
    try:
        truth: Tensor | None = twin_vjp(model, x, grad_y)[0]
    except TypeError:
        truth = None
    scale = truth if truth is not None else grad_x
    vs_autograd = _relative(grad_x, truth, scale) if truth is not None else float("nan")
    vs_numeric = _numeric_sample(objective, x, grad_x, scale, samples, eps, gen)
    return GradcheckRow("input", "input", vs_autograd, vs_numeric, _verdict(vs_autograd, vs_numeric))


def deliberately_wrong(layer: Module, factor: float = 1.01) -> Module:
    """Make ``layer``'s backward return ``factor`` times the right input gradient (to see a red row)."""
    base = type(layer)

    def backward(self: Module, grad_output: Tensor) -> Tensor:
        return base.backward(self, grad_output) * factor

    layer.__class__ = type(f"Wrong{base.__name__}", (base,), {"backward": backward, "__module__": __name__})
    return layer
