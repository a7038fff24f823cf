"""ReLU, LeakyReLU, Sigmoid, Tanh against torch autograd; kinks and saturation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnkit import LeakyReLU, Module, ReLU, ShapeError, Sigmoid, Tanh
from tests.nnkit.parity import compare_layer
from tests.strategies import image_shapes, seeds

ACTIVATIONS: list[tuple[Callable[[], Module], Callable[[torch.Tensor], torch.Tensor]]] = [
    (ReLU, torch.relu),
    (lambda: LeakyReLU(0.1), lambda x: torch.nn.functional.leaky_relu(x, 0.1)),
    (LeakyReLU, torch.nn.functional.leaky_relu),
    (Sigmoid, torch.sigmoid),
    (Tanh, torch.tanh),
]
IDS = ["relu", "leaky0.1", "leaky", "sigmoid", "tanh"]


@pytest.mark.parametrize(("make", "reference"), ACTIVATIONS, ids=IDS)
@given(shape=image_shapes(), seed=seeds, dtype=st.sampled_from([torch.float64, torch.float32]))
def test_matches_torch(
    make: Callable[[], Module],
    reference: Callable[[torch.Tensor], torch.Tensor],
    shape: tuple[int, ...],
    seed: int,
    dtype: torch.dtype,
) -> None:
    x = 3 * torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    x.view(-1)[::3] = 0.0  # exact zeros: the kink of ReLU / LeakyReLU
    compare_layer(make(), x, lambda t, _: reference(t), seed)


@pytest.mark.parametrize(("make", "reference"), ACTIVATIONS, ids=IDS)
def test_subgradient_at_zero_like_torch(
    make: Callable[[], Module], reference: Callable[[torch.Tensor], torch.Tensor]
) -> None:
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    xt = x.clone().requires_grad_()
    reference(xt).sum().backward()
    layer = make()
    layer(x)
    assert xt.grad is not None and torch.equal(layer.backward(torch.ones_like(x)), xt.grad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sigmoid_and_tanh_saturate_without_nan(dtype: torch.dtype) -> None:
    x = torch.tensor([-5000.0, -1000.0, -80.0, 0.0, 80.0, 1000.0, 5000.0], dtype=dtype).view(1, 1, 1, 7)
    for layer in (Sigmoid(), Tanh()):
        y = layer(x)
        g = layer.backward(torch.ones_like(x))
        assert torch.isfinite(y).all() and torch.isfinite(g).all(), (layer, y, g)
        assert float(g[0, 0, 0, 0]) == 0.0 and float(g[0, 0, 0, -1]) == 0.0
    assert Sigmoid()(x)[0, 0, 0, 3] == 0.5


@pytest.mark.parametrize("make", [ReLU, LeakyReLU, Sigmoid, Tanh])
def test_errors(make: Callable[[], Module]) -> None:
    layer = make()
    with pytest.raises(RuntimeError, match=f"{type(layer).__name__}.*before forward"):
        layer.backward(torch.zeros(2, 2))
    layer(torch.zeros(1, 2, 3, 3))
    with pytest.raises(ShapeError, match=rf"{type(layer).__name__}.*\(1, 2, 3, 4\).*\(1, 2, 3, 3\)"):
        layer.backward(torch.zeros(1, 2, 3, 4))


def test_leaky_repr() -> None:
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(ReLU()) == "ReLU()"


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0])
def test_leaky_relu_special_values_like_torch(slope: float) -> None:
    """Signed zeros, infinities and NaN give torch's outputs; gradients match wherever the input is not NaN."""
    x = torch.tensor([-0.0, 0.0, 1e-300, -1e-300, float("inf"), -float("inf"), 2.5, -2.5, float("nan")])
    x = x.to(torch.float64).view(1, 1, 1, -1)
    xt = x.clone().requires_grad_()
    expected = torch.nn.functional.leaky_relu(xt, slope)
    expected.backward(torch.ones_like(x))
    layer = LeakyReLU(slope)
    got = layer(x)
    torch.testing.assert_close(got, expected.detach(), rtol=0, atol=0, equal_nan=True)
    assert torch.equal(torch.signbit(got[..., :2]), torch.signbit(expected.detach()[..., :2]))
    grad = layer.backward(torch.ones_like(x))
    assert xt.grad is not None and torch.equal(grad[..., :-1], xt.grad[..., :-1])
