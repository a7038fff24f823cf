"""The autograd side of ``nnkit.gradcheck.check_model``: vector-Jacobian products of torch.nn twins.

Its name says "reference": with nnkit/reference.py, the one place in nnkit core allowed
torch.nn and autograd. ``twin_vjp`` returns what a correct hand-written backward must give.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nnkit.module import Module
from nnkit.reference import to_torch


def twin_vjp(module: Module, x: Tensor, grad_output: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """(dL/dx, {parameter name: dL/dparam}) of L = sum(twin(x) * grad_output), by torch autograd.

    The twin is ``to_torch(module)`` with the module's current weights; raises TypeError when
    a layer has no twin.
    """
    twin = to_torch(module)
    x = x.detach().clone().requires_grad_(True)
    params = dict(twin.named_parameters())
    with torch.enable_grad():
        y = twin(x)
        if y.shape != grad_output.shape:
            raise ValueError(f"twin_vjp: twin output {tuple(y.shape)} != grad_output {tuple(grad_output.shape)}")
        grads = torch.autograd.grad(y, [x, *params.values()], grad_output, allow_unused=True)
    grad_x = grads[0] if grads[0] is not None else torch.zeros_like(x)
    by_name = {
        name: (g if g is not None else torch.zeros_like(p)).detach()
        for (name, p), g in zip(params.items(), grads[1:], strict=True)
    }
    return grad_x.detach(), by_name
