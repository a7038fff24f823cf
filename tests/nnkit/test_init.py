"""nnkit.init: statistics, exact constants, seeded reproducibility, torch.nn.init agreement."""

from __future__ import annotations

import math

import pytest
import torch

from nnkit.init import INIT_DESCRIPTIONS, INITIALISERS, conv_layers, initialise
from nnkit.module import Module, Parameter


class FakeConv(Module):
    """Stands in for a convolution: weight (out, in, k, k) and bias (out)."""

    def __init__(self, cin: int, cout: int, k: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = Parameter(torch.empty(cout, cin, k, k, dtype=torch.float64))
        if bias:
            self.bias = Parameter(torch.empty(cout, dtype=torch.float64))


class Net(Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = FakeConv(3, 8, 3)
        self.b = FakeConv(8, 4, 2, bias=False)
        self.other = Parameter(torch.full((5,), 7.0))  # not a conv: left alone


def _big(cin: int = 64, cout: int = 128, k: int = 3) -> FakeConv:
    return FakeConv(cin, cout, k)


def test_every_initialiser_has_a_description() -> None:
    assert set(INITIALISERS) == set(INIT_DESCRIPTIONS)
    assert {"he", "he_report", "xavier", "torch_default", "constant_1", "constant_1e-3"} <= set(INITIALISERS)


def test_he_std_within_a_few_percent() -> None:
    layer = initialise(_big(), "he", torch.Generator().manual_seed(0))
    std = layer.weight.data.std().item()
    assert std == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.03)
    assert layer.weight.data.mean().abs().item() < 0.05 * std
    assert not layer.bias.data.any()


def test_he_report_std_formula() -> None:
    layer = initialise(_big(cin=16, cout=128), "he_report", torch.Generator().manual_seed(0))
    assert layer.weight.data.std().item() == pytest.approx(math.sqrt(2 / (3 * 3 * 128)), rel=0.03)
    assert not layer.bias.data.any()


def test_xavier_bounds_and_std() -> None:
    layer = initialise(_big(), "xavier", torch.Generator().manual_seed(0))
    bound = math.sqrt(6 / (64 * 9 + 128 * 9))
    assert layer.weight.data.abs().max().item() <= bound
    assert layer.weight.data.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    layer = initialise(_big(), "xavier_normal", torch.Generator().manual_seed(0))
    assert layer.weight.data.std().item() == pytest.approx(math.sqrt(2 / (64 * 9 + 128 * 9)), rel=0.03)


@pytest.mark.parametrize("value", ["constant_1", "constant_1e-3"])
def test_constants_exact(value: str) -> None:
    net = initialise(Net(), value, torch.Generator())
    expected = 1.0 if value == "constant_1" else 1e-3
    for _, w, b in conv_layers(net):
        assert torch.all(w.data == expected)
        if b is not None:
            assert torch.all(b.data == expected)
    assert torch.all(net.other.data == 7.0)


@pytest.mark.parametrize("name", sorted(INITIALISERS))
def test_seeded_reproducible(name: str) -> None:
    first = initialise(Net(), name, torch.Generator().manual_seed(42))
    second = initialise(Net(), name, torch.Generator().manual_seed(42))
    for (k, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    if not name.startswith("constant"):
        third = initialise(Net(), name, torch.Generator().manual_seed(43))
        assert not torch.equal(first.a.weight.data, third.a.weight.data)


def test_torch_default_matches_torch_nn_init() -> None:
    """Same generator, same numbers as torch.nn.Conv2d.reset_parameters would draw."""
    layer = initialise(FakeConv(5, 7, 3), "torch_default", torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    w = torch.empty(7, 5, 3, 3, dtype=torch.float64)
    torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)
    b = torch.empty(7, dtype=torch.float64)
    bound = 1 / math.sqrt(5 * 9)
    torch.nn.init.uniform_(b, -bound, bound, generator=g)
    torch.testing.assert_close(layer.weight.data, w, rtol=1e-15, atol=0)
    torch.testing.assert_close(layer.bias.data, b, rtol=1e-15, atol=0)


def test_he_matches_torch_nn_init() -> None:
    layer = initialise(FakeConv(5, 7, 3), "he", torch.Generator().manual_seed(3))
    w = torch.empty(7, 5, 3, 3, dtype=torch.float64)
    torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(layer.weight.data, w, rtol=1e-15, atol=0)


def test_unknown_name_lists_the_names() -> None:
    with pytest.raises(ValueError, match="he_report"):
        initialise(Net(), "kaiming", torch.Generator())


def test_generator_required() -> None:
    with pytest.raises(TypeError, match="Generator"):
        initialise(Net(), "he", 0)  # type: ignore[arg-type]


def test_real_layers_if_present() -> None:
    layers = pytest.importorskip("nnkit.layers")
    if not hasattr(layers, "Conv2d"):
        pytest.skip("nnkit.layers.Conv2d not there yet")
    model = layers.Sequential(
        layers.Conv2d(3, 16, 3, padding=1), layers.ReLU(), layers.TransposeConv2d(16, 3, 3, padding=1)
    )
    initialise(model, "constant_1e-3", torch.Generator())
    assert all(torch.all(p.data == 1e-3) for p in model.parameters())
    initialise(model, "he", torch.Generator().manual_seed(0))
    assert sum(1 for _ in conv_layers(model)) == 2
