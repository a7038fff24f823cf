"""Sequential, SkipConcat and Residual: the container API and a recursive U-Net against torch."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import (
    Conv2d,
    LeakyReLU,
    Module,
    NearestUpsampling,
    ReLU,
    Residual,
    Sequential,
    ShapeError,
    Sigmoid,
    SkipConcat,
    TransposeConv2d,
)
from tests.nnkit.parity import compare_layer
from tests.strategies import seeds


def test_sequential_is_indexable_iterable_and_sized() -> None:
    a, b, c = Conv2d(1, 2, 3), ReLU(), Conv2d(2, 1, 1)
    seq = Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    seq.append(c)
    assert len(seq) == 3 and seq[2] is c
    head = seq[:2]
    assert isinstance(head, Sequential) and list(head) == [a, b]
    assert list(seq[::2]) == [a, c]
    with pytest.raises(IndexError, match="3 layers"):
        seq[3]
    with pytest.raises(TypeError, match="nnkit Modules"):
        seq.append(torch.nn.ReLU())  # type: ignore[arg-type]


def test_sequential_state_keys_like_torch() -> None:
    seq = Sequential(Conv2d(1, 2, 3), ReLU(), Conv2d(2, 1, 1, bias=False))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Conv2d(2, 1, 1, bias=False))
    assert list(seq.state_dict()) == list(theirs.state_dict()) == ["0.weight", "0.bias", "2.weight"]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight"]


def test_sequential_repr() -> None:
    seq = Sequential(Conv2d(1, 2, 3), SkipConcat(Sequential(ReLU())))
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1))\n"
        "  (1): SkipConcat(\n"
        "    (inner): Sequential(\n"
        "      (0): ReLU()\n"
        "    )\n"
        "  )\n"
        ")"
    )


def test_empty_sequential_is_identity() -> None:
    x = torch.randn(1, 2, 3, 3)
    seq = Sequential()
    assert torch.equal(seq(x), x) and torch.equal(seq.backward(x), x)


def unet(level: int, channels: int, gen: torch.Generator) -> Module:
    """A tiny recursive U-Net: conv, (down, inner, up) as a skip, conv."""
    if level == 0:
        return Sequential(Conv2d(channels, channels, 3, padding=1, generator=gen), LeakyReLU(0.1))
    wide = 2 * channels
    inner = Sequential(
        Conv2d(channels, wide, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        unet(level - 1, wide, gen),
        TransposeConv2d(wide, channels, 3, scale_factor=2, padding=1, generator=gen),
    )
    return Sequential(SkipConcat(inner), Conv2d(2 * channels, channels, 3, padding=1, generator=gen), ReLU())


def unet_torch(x: torch.Tensor, p: dict[str, torch.Tensor], level: int, prefix: str = "") -> torch.Tensor:
    if level == 0:
        return F.leaky_relu(F.conv2d(x, p[prefix + "0.weight"], p[prefix + "0.bias"], padding=1), 0.1)
    inner = prefix + "0.inner."
    y = F.relu(F.conv2d(x, p[inner + "0.weight"], p[inner + "0.bias"], stride=2, padding=1))
    y = unet_torch(y, p, level - 1, inner + "2.")
    y = F.conv2d(F.interpolate(y, scale_factor=2), p[inner + "3.weight"], p[inner + "3.bias"], padding=1)
    y = torch.cat([x, y], dim=1)
    return F.relu(F.conv2d(y, p[prefix + "1.weight"], p[prefix + "1.bias"], padding=1))


@given(seed=seeds, batch=st.integers(1, 2), dtype=st.sampled_from([torch.float64, torch.float32]))
def test_recursive_unet_matches_torch(seed: int, batch: int, dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Conv2d(3, 4, 3, padding=1, generator=gen), unet(2, 4, gen), Conv2d(4, 3, 1, generator=gen))
    model.to(dtype=dtype)
    model.append(Sigmoid())
    x = torch.rand(batch, 3, 8, 12, generator=gen, dtype=torch.float64).to(dtype)

    def reference(t: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        t = F.conv2d(t, p["0.weight"], p["0.bias"], padding=1)
        sub = {k[2:]: v for k, v in p.items() if k.startswith("1.")}
        t = unet_torch(t, sub, 2)
        return torch.sigmoid(F.conv2d(t, p["2.weight"], p["2.bias"]))

    compare_layer(model, x, reference, seed)


@given(seed=seeds, dtype=st.sampled_from([torch.float64, torch.float32]))
def test_residual_matches_torch(seed: int, dtype: torch.dtype) -> None:
    gen = torch.Generator().manual_seed(seed)
    model = Residual(Sequential(Conv2d(3, 3, 3, padding=1, generator=gen), ReLU())).to(dtype=dtype)
    x = torch.randn(2, 3, 5, 6, generator=gen, dtype=torch.float64).to(dtype)
    assert list(model.state_dict()) == ["inner.0.weight", "inner.0.bias"]

    def reference(t: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        return t + F.relu(F.conv2d(t, p["inner.0.weight"], p["inner.0.bias"], padding=1))

    compare_layer(model, x, reference, seed)


def test_skip_concat_shape_errors() -> None:
    skip = SkipConcat(Conv2d(2, 2, 3))  # shrinks the image: cannot be concatenated
    with pytest.raises(ShapeError, match=r"SkipConcat.*\(1, 2, 3, 3\).*\(1, 2, 5, 5\)"):
        skip(torch.zeros(1, 2, 5, 5))
    with pytest.raises(RuntimeError, match=r"SkipConcat.*before forward"):
        SkipConcat(ReLU()).backward(torch.zeros(1, 2, 2, 2))
    ok = SkipConcat(ReLU())
    assert ok(torch.zeros(1, 2, 3, 3)).shape == (1, 4, 3, 3)
    with pytest.raises(ShapeError, match=r"SkipConcat.*\(1, 2, 3, 3\).*\(1, 4, 3, 3\)"):
        ok.backward(torch.zeros(1, 2, 3, 3))


def test_residual_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"Residual.*\(1, 3, 4, 4\).*\(1, 2, 4, 4\)"):
        Residual(Conv2d(2, 3, 1))(torch.zeros(1, 2, 4, 4))
    with pytest.raises(RuntimeError, match=r"Residual.*before forward"):
        Residual(ReLU()).backward(torch.zeros(1, 2, 2, 2))


def test_upsampling_inside_sequential() -> None:
    seq = Sequential(NearestUpsampling(2), ReLU())
    assert seq(torch.ones(1, 1, 2, 3)).shape == (1, 1, 4, 6)
    assert torch.equal(seq.backward(torch.ones(1, 1, 4, 6)), torch.full((1, 1, 2, 3), 4.0))


@pytest.mark.parametrize("layout", ["channels_last", "contiguous", "mixed"])
def test_skip_concat_equals_torch_cat_in_any_layout(layout: str) -> None:
    """Channels-last inputs are concatenated as (N, H, W, C) views: same values, channels-last result."""
    from nnkit.layers.containers import _concat_channels

    g = torch.Generator().manual_seed(4)
    x, y = torch.randn(2, 3, 5, 4, generator=g), torch.randn(2, 2, 5, 4, generator=g)
    if layout in ("channels_last", "mixed"):
        x = x.contiguous(memory_format=torch.channels_last)
    if layout == "channels_last":
        y = y.contiguous(memory_format=torch.channels_last)
    out = _concat_channels(x, y)
    assert torch.equal(out, torch.cat([x, y], dim=1))
    assert out.is_contiguous(memory_format=torch.channels_last) == (layout == "channels_last")
