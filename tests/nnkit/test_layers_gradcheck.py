"""Central-difference gradient check on every layer, and readable failure messages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from nnkit import Conv2d, Module, Parameter, ReLU
from nnkit.gradcheck import GradcheckError, gradcheck
from tests.nnkit.layer_zoo import LAYERS

SMALL_INPUT = (1, 3, 4, 5)


@pytest.mark.parametrize("make", list(LAYERS.values()), ids=list(LAYERS))
def test_gradcheck_every_layer(make: Callable[[], Module]) -> None:
    layer = make().to(dtype=torch.float64)
    x = torch.randn(SMALL_INPUT, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    if isinstance(layer, ReLU) or "ReLU" in repr(layer):
        x = x + 0.05 * torch.sign(x)  # keep away from the kink, where differences are meaningless
    errors = gradcheck(layer, x)
    assert set(errors) == {"input", *dict(layer.named_parameters())}
    assert max(errors.values()) < 1e-6, errors


def test_gradcheck_leaves_accumulated_grads_alone() -> None:
    layer = Conv2d(2, 2, 3)
    layer.to(dtype=torch.float64)
    layer.weight.grad.fill_(7.0)
    gradcheck(layer, torch.randn(1, 2, 4, 4, dtype=torch.float64))
    assert bool((layer.weight.grad == 7.0).all())


class WrongBias(Module):
    """y = x + b with a deliberately wrong bias gradient (half of it)."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = Parameter(torch.zeros(1, 2, 1, 1, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bias.data

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        self.bias.grad.add_(0.5 * grad_output.sum(dim=(0, 2, 3), keepdim=True))
        return grad_output


def test_failure_message_names_tensor_index_and_values() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongBias(), torch.randn(1, 2, 3, 3, dtype=torch.float64))
    message = str(info.value)
    assert "WrongBias" in message and "'bias'" in message
    assert "worst at index (0, " in message and "analytic" in message and "numeric" in message
    assert "relative error" in message


def test_float32_rejected_with_hint() -> None:
    with pytest.raises(TypeError, match=r"float64.*'weight'.*float32"):
        gradcheck(Conv2d(1, 1, 1), torch.zeros(1, 1, 2, 2, dtype=torch.float64))
