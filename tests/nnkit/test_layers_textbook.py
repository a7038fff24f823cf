"""UnfoldConv2d (the readable unfold/fold Conv2d) against torch autograd and nnkit's fast Conv2d, float64."""

from __future__ import annotations

import pytest
import torch

from nnkit import Conv2d, UnfoldConv2d

# (N, C_in, C_out, H, W, kernel_size, stride, padding, dilation, bias)
SHAPES = [
    (2, 3, 4, 8, 8, 3, 1, 1, 1, True),
    (2, 2, 3, 9, 7, 3, 2, 0, 1, True),  # stride 2, odd sizes: the last row/column is never read
    (1, 3, 2, 11, 10, 3, 2, 1, 1, False),
    (2, 2, 3, 10, 9, 3, 1, 2, 2, True),  # dilation 2
    (3, 1, 2, 7, 9, (2, 3), (1, 2), (1, 0), 1, True),  # (h, w) kernel, (h, w) stride
    (2, 4, 1, 9, 8, (3, 1), 3, (0, 1), (2, 1), False),
]


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def _setup(shape: tuple, seed: int = 0) -> tuple[UnfoldConv2d, torch.Tensor]:
    n, cin, cout, h, w, k, s, p, d, bias = shape
    g = torch.Generator().manual_seed(seed)
    layer = UnfoldConv2d(cin, cout, k, s, p, d, bias=bias, generator=g, dtype=torch.float64)
    x = torch.randn(n, cin, h, w, generator=g, dtype=torch.float64)
    return layer, x


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_torch_autograd(shape: tuple) -> None:
    layer, x = _setup(shape)
    *_, s, p, d, bias = shape
    y = layer(x)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    dx = layer.backward(g)

    xr = x.clone().requires_grad_(True)
    wr = layer.weight.data.clone().requires_grad_(True)
    br = layer.bias.data.clone().requires_grad_(True) if layer.bias is not None else None
    yr = torch.nn.functional.conv2d(xr, wr, br, _pair(s), _pair(p), _pair(d))
    yr.backward(g)

    assert y.shape == yr.shape
    assert _rel(y, yr.detach()) < 1e-10
    assert xr.grad is not None and wr.grad is not None
    assert dx.shape == x.shape
    assert _rel(dx, xr.grad) < 1e-10
    assert _rel(layer.weight.grad, wr.grad) < 1e-10
    if bias:
        assert layer.bias is not None and br is not None and br.grad is not None
        assert _rel(layer.bias.grad, br.grad) < 1e-10
    else:
        assert layer.bias is None


@pytest.mark.parametrize("shape", SHAPES)
def test_matches_fast_conv2d(shape: tuple) -> None:
    layer, x = _setup(shape)
    _, cin, cout, _, _, k, s, p, d, bias = shape
    fast = Conv2d(cin, cout, k, s, p, d, bias=bias, dtype=torch.float64)
    fast.load_state_dict(layer.state_dict())
    assert list(fast.state_dict()) == list(layer.state_dict())
    y, yf = layer(x), fast(x)
    assert (y - yf).abs().max() < 1e-12
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert (layer.backward(g) - fast.backward(g)).abs().max() < 1e-12
    for (name, a), (_, b) in zip(layer.named_parameters(), fast.named_parameters(), strict=True):
        assert (a.grad - b.grad).abs().max() < 1e-12, name


@pytest.mark.parametrize("shape", SHAPES[:3])
def test_grads_accumulate(shape: tuple) -> None:
    layer, x = _setup(shape)
    y = layer(x)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    layer.backward(g)
    once = [p.grad.clone() for p in layer.parameters()]
    layer.backward(g)
    for p, first in zip(layer.parameters(), once, strict=True):
        assert torch.allclose(p.grad, 2 * first, rtol=1e-12, atol=1e-14)
    layer.zero_grad()
    assert all(p.grad.abs().max() == 0 for p in layer.parameters())


def test_backward_before_forward_raises() -> None:
    layer, _ = _setup(SHAPES[0])
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(torch.zeros(2, 4, 8, 8, dtype=torch.float64))


def test_is_a_conv2d_with_the_parents_checks() -> None:
    layer, x = _setup(SHAPES[0])
    assert isinstance(layer, Conv2d)
    with pytest.raises(ValueError):  # ShapeError: wrong channel count
        layer(x[:, :2])
    y = layer(x)
    with pytest.raises(ValueError):  # ShapeError: grad_output shape mismatch
        layer.backward(torch.zeros(y.shape[0], y.shape[1], y.shape[2] + 1, y.shape[3], dtype=torch.float64))
