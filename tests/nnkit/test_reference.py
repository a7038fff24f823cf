"""to_torch twins: equal keys and values, equal forward and backward in float64."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from nnkit import Conv2d, Module, ReLU, Sequential, Sigmoid, TransposeConv2d
from nnkit.reference import register_twin, to_torch
from tests.nnkit.layer_zoo import INPUT_SHAPE, LAYERS
from tests.nnkit.parity import rel_err


def twin_errors(layer: Module, x: torch.Tensor) -> dict[str, float]:
    twin = to_torch(layer)
    xt = x.clone().requires_grad_()
    expected = twin(xt)
    g = torch.randn(expected.shape, generator=torch.Generator().manual_seed(5), dtype=x.dtype)
    expected.backward(g)
    layer.zero_grad()
    y = layer.forward(x)
    gx = layer.backward(g)
    errors = {"forward": rel_err(y, expected.detach()), "input": rel_err(gx, xt.grad)}  # type: ignore[arg-type]
    for (name, p), (tname, tp) in zip(layer.named_parameters(), twin.named_parameters(), strict=True):
        assert name == tname
        errors[name] = rel_err(p.grad, tp.grad)  # type: ignore[arg-type]
    return errors


@pytest.mark.parametrize("make", list(LAYERS.values()), ids=list(LAYERS))
def test_twin_forward_and_backward_equal_float64(make: Callable[[], Module]) -> None:
    layer = make().to(dtype=torch.float64)
    x = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    errors = twin_errors(layer, x)
    assert max(errors.values()) < 1e-10, errors


def report_net() -> Sequential:
    gen = torch.Generator().manual_seed(0)
    return Sequential(
        Conv2d(3, 8, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        Conv2d(8, 16, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        TransposeConv2d(16, 8, 3, padding=1, generator=gen),
        ReLU(),
        TransposeConv2d(8, 3, 3, padding=1, generator=gen),
        Sigmoid(),
    )


def test_report_net_twin() -> None:
    model = report_net().to(dtype=torch.float64)
    twin = to_torch(model)
    assert isinstance(twin, torch.nn.Sequential)
    assert next(twin.parameters()).dtype == torch.float64
    errors = twin_errors(model, torch.rand(2, 3, 12, 16, dtype=torch.float64))
    assert max(errors.values()) < 1e-10, errors


def test_twin_follows_weights_dtype_and_mode() -> None:
    model = report_net()
    model.eval()
    twin = to_torch(model)
    assert next(twin.parameters()).dtype == torch.float32 and not twin.training
    assert twin.state_dict()["0.weight"].data_ptr() != model.state_dict()["0.weight"].data_ptr()  # a copy


def test_unknown_layer_is_named() -> None:
    class Mystery(Module):
        pass

    with pytest.raises(TypeError, match="Mystery"):
        to_torch(Sequential(ReLU(), Mystery()))


def test_register_twin() -> None:
    class Double(Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

    class TorchDouble(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

    register_twin(Double, lambda m: TorchDouble())
    twin = to_torch(Sequential(Double()))
    assert isinstance(twin, torch.nn.Sequential) and isinstance(twin[0], TorchDouble)
