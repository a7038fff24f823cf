"""Per-layer statistics against the same numbers computed independently by autograd on the torch.nn twin."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit import Conv2d, LeakyReLU, Module, MSELoss, ReLU, Residual, Sequential, Sigmoid, SkipConcat, TransposeConv2d
from nnkit.layer_stats import LayerProbe, as_record, inspect_step, leaf_layers
from nnkit.optim import Adam
from nnkit.reference import to_torch


def net(width: int, gen: torch.Generator) -> Sequential:
    return Sequential(
        Conv2d(3, width, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        SkipConcat(Sequential(Conv2d(width, width, 3, padding=1, generator=gen), LeakyReLU(0.1))),
        Residual(Sequential(Conv2d(2 * width, 2 * width, 1, generator=gen), ReLU())),
        TransposeConv2d(2 * width, 3, 3, padding=1, generator=gen),
        Sigmoid(),
    ).to(dtype=torch.float64)


def twin_statistics(model: Module, x: torch.Tensor, y: torch.Tensor, lr: float) -> dict[str, dict[str, float]]:
    """The statistics by autograd on the twin: forward hooks for outputs, tensor hooks for their gradients."""
    twin = to_torch(model)
    leaves = {name: m for name, m in twin.named_modules() if not list(m.children())}
    outputs: dict[str, torch.Tensor] = {}
    grads: dict[str, torch.Tensor] = {}

    def hook(name: str):
        def record(module: torch.nn.Module, args: object, out: torch.Tensor) -> None:
            outputs[name] = out.detach().clone()
            out.register_hook(lambda g: grads.__setitem__(name, g.detach().clone()))

        return record

    for name, m in leaves.items():
        m.register_forward_hook(hook(name))
    before = {k: v.detach().clone() for k, v in twin.named_parameters()}
    opt = torch.optim.Adam(twin.parameters(), lr=lr, foreach=False)
    loss = torch.nn.functional.mse_loss(twin(x), y)
    loss.backward()
    opt.step()
    stats: dict[str, dict[str, float]] = {}
    for name, m in leaves.items():
        out = outputs[name]
        s = {
            "out_mean": out.mean().item(),
            "out_std": out.std(unbiased=False).item(),
            "out_zero_frac": (out == 0).double().mean().item(),
            "grad_out_norm": grads[name].norm().item(),
        }
        for pname, p in m.named_parameters():
            full = f"{name}.{pname}"
            s[f"{pname}_norm"] = before[full].norm().item()
            s[f"{pname}_grad_norm"] = p.grad.norm().item()
            s[f"{pname}_update_ratio"] = ((p.detach() - before[full]).norm() / before[full].norm()).item()
        stats[name] = s
    return stats


@settings(max_examples=8, deadline=None)
@given(width=st.integers(1, 4), batch=st.integers(1, 3), side=st.sampled_from([4, 6, 8]), seed=st.integers(0, 99))
def test_statistics_equal_autograd_on_the_twin(width: int, batch: int, side: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    model = net(width, gen)
    x = torch.rand(batch, 3, side, side, generator=gen, dtype=torch.float64)
    y = torch.rand(batch, 3, side, side, generator=gen, dtype=torch.float64)
    expected = twin_statistics(model, x, y, lr=1e-2)
    loss_fn, opt = MSELoss(), Adam(model.parameters(), lr=1e-2)

    def step() -> float:
        loss = loss_fn.forward(model.forward(x), y)
        opt.zero_grad()
        model.backward(loss_fn.backward())
        opt.step()
        return float(loss)

    _, report = inspect_step(model, step)
    assert report.stats.keys() == expected.keys()
    for name, stats in expected.items():
        assert report.stats[name].keys() == stats.keys(), name
        for stat, value in stats.items():
            got = report.stats[name][stat]
            assert abs(got - value) <= 1e-12 * max(1.0, abs(value)), (name, stat, got, value)


def test_histograms_count_every_value_and_span_min_to_max() -> None:
    gen = torch.Generator().manual_seed(0)
    model = net(2, gen)
    x = torch.rand(2, 3, 8, 8, generator=gen, dtype=torch.float64)
    with LayerProbe(model, bins=10) as probe:
        out = model.forward(x)
        model.backward(torch.ones_like(out))
    report = probe.report()
    first = report.activations["0"]
    conv_out = model[0].forward(x)
    assert sum(first.counts) == conv_out.numel() and len(first.counts) == 10
    assert first.lo == conv_out.min().item() and first.hi == conv_out.max().item()
    edges = torch.linspace(first.lo, first.hi, 11, dtype=torch.float64)
    expected = torch.histogram(conv_out.flatten().cpu(), bins=edges).hist
    assert first.counts == [int(c) for c in expected]
    assert sum(report.gradients["5"].counts) == out.numel()
    assert report.input_shapes["0"] == (2, 3, 8, 8) and report.kinds["4"] == "TransposeConv2d"


def test_large_tensors_are_histogrammed_from_an_even_sample() -> None:
    from nnkit.layer_stats import HISTOGRAM_SAMPLE

    layer = Sequential(ReLU())
    x = torch.linspace(-1, 1, 3 * HISTOGRAM_SAMPLE + 1).reshape(1, 1, -1, 1)
    with LayerProbe(layer, bins=4) as probe:
        layer.forward(x)
    histogram = probe.report().activations["0"]
    assert (histogram.lo, histogram.hi) == (0.0, 1.0)
    assert HISTOGRAM_SAMPLE // 2 <= sum(histogram.counts) <= HISTOGRAM_SAMPLE
    assert histogram.counts[0] > 2 * histogram.counts[1]  # half the values are ReLU zeros, in the first bin
    assert abs(histogram.counts[1] - histogram.counts[2]) <= 1  # the other half spread evenly


def test_probe_leaves_no_trace_and_an_uninspected_step_runs_the_plain_methods() -> None:
    model = net(2, torch.Generator().manual_seed(0))
    with LayerProbe(model):
        assert all("forward" in m.__dict__ for _, m in leaf_layers(model))
    assert not any("forward" in m.__dict__ or "backward" in m.__dict__ for m in model.modules())


def test_as_record_is_the_metrics_line() -> None:
    model = net(1, torch.Generator().manual_seed(0))
    x = torch.rand(1, 3, 4, 4, dtype=torch.float64)

    def step() -> None:
        model.backward(torch.ones_like(model.forward(x)))

    _, report = inspect_step(model, step)
    record = as_record(report, 7)
    assert record["event"] == "layers" and record["step"] == 7
    assert record["layers"]["1"]["out_zero_frac"] >= 0 and "weight_update_ratio" in record["layers"]["0"]
    assert record["layers"]["0"]["weight_update_ratio"] == 0.0  # no optimiser step: nothing moved


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_constant_outputs_std_is_torchs_to_rounding(dtype: torch.dtype) -> None:
    """E[x²] - E[x]² leaves ~eps·E[x²] on a constant: the std read 1.9e-9 in float64 (hypothesis found it)."""
    from nnkit.layer_stats import _moments

    eps = torch.finfo(dtype).eps
    for value in (0.0123, 0.7, 3.3):
        t = torch.full((2, 1, 4, 4), value, dtype=dtype)
        mean, std = _moments(t)
        assert abs(float(std) - float(t.std(unbiased=False))) <= 8 * eps * value
        assert float(mean) == pytest.approx(value)
    rng = torch.Generator().manual_seed(0)
    t = torch.rand(3, 5, 7, 9, generator=rng, dtype=dtype)
    mean, std = _moments(t)
    assert float(std) == pytest.approx(float(t.std(unbiased=False)), rel=1e-5)
