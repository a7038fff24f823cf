"""nnkit.kernels (the fast conv paths) against torch autograd in float64, over many shapes."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from nnkit.kernels import conv2d_backward, conv2d_forward, upsample_conv_backward, upsample_conv_forward

D = torch.float64


def _close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=lambda m: f"{what}: {m}")


CONV_CASES = [
    # n, c, o, h, w, k, stride, padding, dilation
    (2, 3, 4, 8, 8, (3, 3), (1, 1), (1, 1), (1, 1)),
    (2, 3, 4, 9, 7, (3, 3), (2, 2), (1, 1), (1, 1)),
    (1, 2, 5, 10, 11, (3, 2), (2, 3), (0, 1), (1, 1)),
    (3, 4, 2, 7, 9, (2, 3), (1, 2), (2, 0), (2, 1)),
    (2, 5, 3, 6, 6, (1, 1), (1, 1), (0, 0), (1, 1)),
    (1, 2, 2, 5, 5, (5, 5), (3, 3), (2, 2), (1, 1)),
    (2, 3, 3, 11, 6, (3, 3), (3, 2), (0, 0), (2, 1)),
    (1, 1, 1, 4, 4, (3, 3), (1, 1), (3, 3), (1, 1)),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_conv_matches_autograd(case: tuple, channels_last: bool) -> None:
    n, c, o, h, w, k, stride, padding, dilation = case
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, dtype=D, generator=g)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    weight = torch.randn(o, c, *k, dtype=D, generator=g)
    bias = torch.randn(o, dtype=D, generator=g)
    xt, wt, bt = (t.clone().requires_grad_(True) for t in (x, weight, bias))
    ref = F.conv2d(xt, wt, bt, stride, padding, dilation)
    y, saved = conv2d_forward(x, weight, bias, stride, padding, dilation)
    _close(y, ref.detach(), "forward")
    gy = torch.randn(ref.shape, dtype=D, generator=g)
    ref.backward(gy)
    wg, bg = torch.zeros_like(weight), torch.zeros_like(bias)
    dx = conv2d_backward(gy, saved, weight, wg, bg, stride, dilation)
    assert dx is not None
    _close(dx, xt.grad, "input grad")
    _close(wg, wt.grad, "weight grad")
    _close(bg, bt.grad, "bias grad")
    assert conv2d_backward(gy, saved, weight, wg, None, stride, dilation, input_grad=False) is None


@pytest.mark.parametrize(
    ("k", "s", "p", "h", "w"),
    [
        (3, 2, 1, 4, 5),
        (3, 2, 0, 5, 4),
        (2, 2, 0, 3, 3),
        (3, 3, 1, 3, 4),
        (5, 2, 2, 4, 3),
        (1, 2, 0, 3, 3),
        (4, 3, 2, 2, 5),
        (3, 2, 2, 3, 3),
        (2, 3, 1, 3, 2),
    ],
)
@pytest.mark.parametrize("with_bias", [True, False])
def test_upsample_conv_matches_autograd(k: int, s: int, p: int, h: int, w: int, with_bias: bool) -> None:
    g = torch.Generator().manual_seed(1)
    n, c, o = 2, 3, 4
    x = torch.randn(n, c, h, w, dtype=D, generator=g)
    weight = torch.randn(o, c, k, k, dtype=D, generator=g)
    bias = torch.randn(o, dtype=D, generator=g) if with_bias else None
    xt, wt = x.clone().requires_grad_(True), weight.clone().requires_grad_(True)
    bt = bias.clone().requires_grad_(True) if bias is not None else None
    ref = F.conv2d(F.interpolate(xt, scale_factor=s, mode="nearest"), wt, bt, padding=p)
    y, saved = upsample_conv_forward(x, weight, bias, s, (p, p))
    _close(y, ref.detach(), "forward")
    gy = torch.randn(ref.shape, dtype=D, generator=g)
    ref.backward(gy)
    wg = torch.zeros_like(weight)
    bg = torch.zeros_like(bias) if bias is not None else None
    dx = upsample_conv_backward(gy, saved, weight, wg, bg)
    assert dx is not None
    _close(dx, xt.grad, "input grad")
    _close(wg, wt.grad, "weight grad")
    if bt is not None:
        _close(bg, bt.grad, "bias grad")


def test_kernels_accumulate_into_grads() -> None:
    x = torch.randn(1, 2, 6, 6, dtype=D)
    weight = torch.randn(3, 2, 3, 3, dtype=D)
    wg = torch.ones_like(weight)
    _, saved = conv2d_forward(x, weight, None, (1, 1), (1, 1), (1, 1))
    first = torch.zeros_like(weight)
    gy = torch.randn(1, 3, 6, 6, dtype=D)
    conv2d_backward(gy, saved, weight, first, None, (1, 1), (1, 1))
    conv2d_backward(gy, saved, weight, wg, None, (1, 1), (1, 1))
    _close(wg, first + 1, "accumulated")


def test_no_save_refuses_backward() -> None:
    x = torch.randn(1, 2, 6, 6, dtype=D)
    weight = torch.randn(3, 2, 3, 3, dtype=D)
    _, saved = conv2d_forward(x, weight, None, (1, 1), (1, 1), (1, 1), save=False)
    with pytest.raises(RuntimeError, match="save=False"):
        conv2d_backward(torch.zeros(1, 3, 6, 6, dtype=D), saved, weight, torch.zeros_like(weight), None, (1, 1), (1, 1))


def test_float32_close_to_torch() -> None:
    g = torch.Generator().manual_seed(2)
    for s, p in itertools.product([2], [1]):
        x = torch.rand(4, 8, 8, 8, generator=g)
        weight = torch.randn(8, 8, 3, 3, generator=g) * 0.1
        y, _ = upsample_conv_forward(x, weight, None, s, (p, p))
        ref = F.conv2d(F.interpolate(x, scale_factor=s, mode="nearest"), weight, padding=p)
        torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-5)


def test_workspace_reuse_gives_the_same_numbers() -> None:
    """Scratch tensors reused across steps (padded border, cols, dcols, dz) change nothing."""
    g = torch.Generator().manual_seed(5)
    weight = torch.randn(4, 3, 3, 3, dtype=D, generator=g)
    bias = torch.randn(4, dtype=D, generator=g)
    ws: dict[str, torch.Tensor] = {}
    ws_up: dict[str, torch.Tensor] = {}
    for _ in range(3):
        x = torch.randn(2, 3, 7, 6, dtype=D, generator=g)
        y0, s0 = conv2d_forward(x, weight, bias, (2, 2), (1, 1), (1, 1))
        y1, s1 = conv2d_forward(x, weight, bias, (2, 2), (1, 1), (1, 1), ws=ws)
        assert torch.equal(y0, y1)
        gy = torch.randn(y0.shape, dtype=D, generator=g)
        w0, w1 = torch.zeros_like(weight), torch.zeros_like(weight)
        dx0 = conv2d_backward(gy, s0, weight, w0, None, (2, 2), (1, 1))
        dx1 = conv2d_backward(gy, s1, weight, w1, None, (2, 2), (1, 1), ws=ws)
        assert dx0 is not None and dx1 is not None
        assert torch.equal(dx0, dx1) and torch.equal(w0, w1)

        u0, t0 = upsample_conv_forward(x, weight, bias, 2, (1, 1))
        u1, t1 = upsample_conv_forward(x, weight, bias, 2, (1, 1), ws=ws_up)
        assert torch.equal(u0, u1)
        gu = torch.randn(u0.shape, dtype=D, generator=g)
        b0, b1 = torch.zeros_like(bias), torch.zeros_like(bias)
        e0 = upsample_conv_backward(gu, t0, weight, w0, b0)
        e1 = upsample_conv_backward(gu, t1, weight, w1, b1, ws=ws_up)
        assert e0 is not None and e1 is not None
        assert torch.equal(e0, e1) and torch.equal(w0, w1) and torch.equal(b0, b1)
    assert "cols" in ws and "cols" in ws_up  # only what backward needs stays per layer; temporaries are shared


def test_eval_mode_shared_scratch_gives_the_same_numbers() -> None:
    """save=False forwards share one scratch per thread across layers of any shape."""
    from nnkit.kernels import SHARED, release_scratch

    g = torch.Generator().manual_seed(6)
    w1 = torch.randn(5, 3, 3, 3, dtype=D, generator=g)
    w2 = torch.randn(3, 5, 3, 3, dtype=D, generator=g)
    for h in (9, 5, 12):
        x = torch.randn(2, 3, h, h + 1, dtype=D, generator=g)
        a, _ = conv2d_forward(x, w1, None, (1, 1), (1, 1), (1, 1))
        b, _ = conv2d_forward(x, w1, None, (1, 1), (1, 1), (1, 1), save=False)
        assert torch.equal(a, b)
        c, _ = upsample_conv_forward(a, w2, None, 2, (1, 1))
        d, _ = upsample_conv_forward(b, w2, None, 2, (1, 1), save=False)
        assert torch.equal(c, d)
    assert SHARED.buffers
    release_scratch()
    assert not SHARED.buffers


@pytest.mark.parametrize(
    ("k", "s", "p", "size", "one_copy"),
    [(3, 2, 1, 5, True), (5, 2, 2, 4, True), (2, 2, 0, 3, False), (3, 3, 1, 4, False)],
)
def test_phases_scatter_in_one_copy_where_possible(k: int, s: int, p: int, size: int, one_copy: bool) -> None:
    """Both the one-copy path and the per-phase loop are taken (the autograd tests above cover their numbers)."""
    from nnkit.kernels import _phase_view, _phases

    axis = _phases(size, k, s, p)
    z6 = torch.zeros(1, axis.grid, axis.grid, s, s, 2)
    assert (_phase_view(z6, axis, axis) is not None) == one_copy


def test_bordered_scratch_keeps_each_padding_apart_and_survives_eviction() -> None:
    """Zero borders are written once per (shape, padding); alternating layouts and evictions change nothing."""
    from nnkit.kernels import SHARED

    g = torch.Generator().manual_seed(7)
    weight = torch.randn(2, 3, 3, 3, dtype=D, generator=g)
    a = torch.randn(2, 3, 8, 8, dtype=D, generator=g)  # padding (1, 1) -> padded 10 x 10
    b = torch.randn(2, 3, 6, 10, dtype=D, generator=g)  # padding (2, 0) -> padded 10 x 10 as well
    for _ in range(2):
        for x, pad in ((a, (1, 1)), (b, (2, 0))):
            y, _ = conv2d_forward(x, weight, None, (1, 1), pad, (1, 1), ws={})
            _close(y, F.conv2d(x, weight, padding=pad), f"padding {pad}")
        for extra in range(SHARED.MAX_BORDERED + 2):  # push both layouts out of the scratch
            conv2d_forward(torch.randn(1, 3, 2, 2 + extra, dtype=D), weight, None, (1, 1), (1, 1), (1, 1), ws={})
    assert len(SHARED.borders) <= SHARED.MAX_BORDERED
