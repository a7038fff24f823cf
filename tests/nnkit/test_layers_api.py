"""One API test per behaviour, parametrised over every layer (thinc style)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from nnkit import Module
from nnkit.reference import to_torch
from tests.nnkit.layer_zoo import INPUT_SHAPE, LAYERS

params = pytest.mark.parametrize("make", list(LAYERS.values()), ids=list(LAYERS))


def run(layer: Module, dtype: torch.dtype = torch.float32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(INPUT_SHAPE, generator=gen, dtype=dtype)
    y = layer.forward(x)
    return y, layer.backward(torch.randn(y.shape, generator=gen, dtype=dtype))


@params
def test_repr(make: Callable[[], Module]) -> None:
    layer = make()
    text = repr(layer)
    assert text.startswith(type(layer).__name__ + "(") and text.endswith(")")


@params
def test_parameters_and_names_match_twin(make: Callable[[], Module]) -> None:
    layer = make()
    names = [n for n, _ in layer.named_parameters()]
    assert layer.parameters() == [p for _, p in layer.named_parameters()]
    assert names == [n for n, _ in to_torch(layer).named_parameters()]
    assert layer.num_parameters() == sum(p.numel() for p in to_torch(layer).parameters())


@params
def test_zero_grad_in_place(make: Callable[[], Module]) -> None:
    layer = make()
    grads = [p.grad for p in layer.parameters()]
    run(layer)
    assert all(bool(g.abs().sum() > 0) for g in grads)
    layer.zero_grad()
    assert all(p.grad is g and not bool(g.any()) for p, g in zip(layer.parameters(), grads, strict=True))


@params
def test_grads_accumulate_across_backward_calls(make: Callable[[], Module]) -> None:
    layer = make().to(dtype=torch.float64)
    _, gx1 = run(layer, torch.float64)
    once = [p.grad.clone() for p in layer.parameters()]
    _, gx2 = run(layer, torch.float64)
    assert torch.equal(gx1, gx2)
    for p, g in zip(layer.parameters(), once, strict=True):
        torch.testing.assert_close(p.grad, 2 * g, rtol=1e-12, atol=0)


@params
def test_state_dict_round_trip_with_twin(make: Callable[[], Module]) -> None:
    layer = make()
    twin = to_torch(layer)
    ours, theirs = layer.state_dict(), twin.state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == theirs[key].shape and torch.equal(ours[key], theirs[key])
    with torch.no_grad():
        for p in twin.parameters():
            p.add_(1.0)
    layer.load_state_dict(twin.state_dict())
    for key, value in twin.state_dict().items():
        assert torch.equal(layer.state_dict()[key], value)
    twin.load_state_dict(make().state_dict())  # and back: equal keys and shapes


@params
def test_to_float64(make: Callable[[], Module]) -> None:
    layer = make()
    run(layer, torch.float32)  # leaves float32 caches behind
    assert layer.to(dtype=torch.float64) is layer
    assert all(p.data.dtype == p.grad.dtype == torch.float64 for p in layer.parameters())
    y, gx = run(layer, torch.float64)
    assert y.dtype == gx.dtype == torch.float64


@params
def test_dtype_mismatch_names_layer(make: Callable[[], Module]) -> None:
    layer = make()
    if not layer.parameters():
        return
    with pytest.raises(TypeError, match=r"\(.*float64.*float32"):
        layer(torch.zeros(INPUT_SHAPE, dtype=torch.float64))


@params
def test_backward_returns_input_shape(make: Callable[[], Module]) -> None:
    _, gx = run(make())
    assert gx.shape == INPUT_SHAPE
