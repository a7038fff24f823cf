"""Conv2d.forward equals F.conv2d bit for bit wherever torch's CPU conv is its own im2col + gemm.

nnkit.conv_rounding names those calls (``rounds_as_torch``) and reproduces them; these tests
hold it to that over shapes, layouts, dtypes and thread counts, through the kernel and
through the layer in both modes. The other calls keep the fast kernel, within float32
rounding of F.conv2d (tests/nnkit/test_layers_conv.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import Conv2d, ReLU, Sequential, Sigmoid, UnfoldConv2d
from nnkit.conv_rounding import MKLDNN_MIN_NUMEL, rounds_as_torch, slow_path_conv2d, suggests_channels_last


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def threads(request: pytest.FixtureRequest) -> Iterator[int]:
    """torch's thread count changes both ATen's backend choice (1x1 kernels) and MKL's blocking."""
    before = torch.get_num_threads()
    torch.set_num_threads(request.param)
    try:
        yield request.param
    finally:
        torch.set_num_threads(before)


GRID = list(
    itertools.product(
        [torch.float32, torch.float64],
        [1, 3, 17],  # in channels
        [2, 20],  # out channels
        [7, 30, 41],  # side (17 x 41 x 41 > 20480: past the slow path in float32)
        [1, 3, 5],  # kernel
        [1, 2],  # stride
        [0, 1],  # padding
        [1, 2],  # dilation
        [False, True],  # channels-last input
    )
)


@pytest.mark.parametrize("chunk", range(2))
def test_slow_path_emulation_is_bitwise_where_claimed(threads: int, chunk: int) -> None:
    """A quarter of the grid, in two halves (all of it passed when the emulation was written)."""
    emulated = 0
    for i, (dtype, c, o, side, k, s, p, d, channels_last) in enumerate(GRID[chunk::8]):
        if side + 2 * p < d * (k - 1) + 1:
            continue
        gen = torch.Generator().manual_seed(i)
        x = torch.randn(1, c, side, side, dtype=dtype, generator=gen)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        weight = torch.randn(o, c, k, k, dtype=dtype, generator=gen) / (c * k * k) ** 0.5
        bias = torch.randn(o, dtype=dtype, generator=gen) if i % 3 else None
        if not rounds_as_torch(x, weight, (s, s), (d, d)):
            continue
        emulated += 1
        y = slow_path_conv2d(x, weight, bias, (s, s), (p, p), (d, d))
        ref = F.conv2d(x, weight, bias, s, p, d)
        case = (dtype, c, o, side, k, s, p, d, channels_last, bias is not None)
        assert torch.equal(y, ref), f"{case}: off by {(y - ref).abs().max().item():.2e}"
    assert emulated > 20  # the grid reaches the emulated calls


@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "dilation", "dtype", "expected"),
    [
        ((1, 3, 32, 32), 3, 1, 1, torch.float32, True),  # the course's check
        ((1, 48, 16, 16), 3, 2, 1, torch.float32, True),  # 12288 inputs
        ((1, 3, 32, 32), 3, 1, 2, torch.float32, True),  # dilated: slow_conv_dilated2d
        ((2, 3, 32, 32), 3, 1, 1, torch.float32, False),  # a batch: oneDNN
        ((1, 3, 128, 128), 3, 1, 1, torch.float32, False),  # more than 20480 inputs: oneDNN
        ((1, 3, 32, 32), 5, 1, 1, torch.float32, False),  # kernel above 3 both ways: oneDNN
        ((1, 3, 32, 32), (5, 3), 1, 1, torch.float32, True),
        ((1, 3, 128, 128), 3, 1, 1, torch.float64, True),  # float64 never goes to oneDNN
        ((2, 3, 8, 8), 3, 1, 1, torch.float64, False),  # ... but a batch's gemms are threaded otherwise
    ],
)
def test_which_calls_round_as_torch(
    shape: tuple[int, ...],
    kernel: int | tuple[int, int],
    stride: int,
    dilation: int,
    dtype: torch.dtype,
    expected: bool,
) -> None:
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x = torch.zeros(shape, dtype=dtype)
    weight = torch.zeros(4, shape[1], kh, kw, dtype=dtype)
    assert rounds_as_torch(x, weight, (stride, stride), (dilation, dilation)) is expected
    assert MKLDNN_MIN_NUMEL == 20480


def test_one_by_one_kernels_follow_the_thread_count(threads: int) -> None:
    x, weight = torch.zeros(1, 8, 100, 100), torch.zeros(4, 8, 1, 1)  # 80000 inputs
    assert rounds_as_torch(x, weight, (1, 1), (1, 1)) is (threads == 1)


@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")
def test_nothing_is_emulated_off_float_and_everything_small_with_onednn_off() -> None:
    weight = torch.randn(4, 3, 3, 3)
    assert not rounds_as_torch(torch.zeros(1, 3, 8, 8, dtype=torch.float16), weight.half(), (1, 1), (1, 1))
    x = torch.randn(1, 3, 128, 128)  # 49152 inputs: oneDNN's, unless it is off
    assert not rounds_as_torch(x, weight, (1, 1), (1, 1))
    with torch.backends.mkldnn.flags(enabled=False):
        assert rounds_as_torch(x, weight, (1, 1), (1, 1))
        assert torch.equal(slow_path_conv2d(x, weight, None, (1, 1), (0, 0), (1, 1)), F.conv2d(x, weight))


@pytest.mark.parametrize(
    ("strides", "expected"),
    [
        ((3 * 8 * 8, 64, 8, 1), False),  # NCHW
        ((3 * 8 * 8, 1, 8 * 3, 3), True),  # NHWC
    ],
)
def test_suggests_channels_last_reads_strides_as_aten(strides: tuple[int, ...], expected: bool) -> None:
    t = torch.empty_strided((2, 3, 8, 8), strides)
    assert suggests_channels_last(t) is expected
    assert suggests_channels_last(t) == (t.contiguous(memory_format=torch.channels_last).stride() == t.stride())


@given(
    seed=st.integers(0, 2**31 - 1),
    c=st.integers(1, 8),
    o=st.integers(1, 8),
    side=st.integers(5, 40),
    k=st.sampled_from([1, 2, 3]),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    bias=st.booleans(),
    training=st.booleans(),
)
def test_layer_forward_is_bitwise_f_conv2d_on_one_small_image(
    seed: int, c: int, o: int, side: int, k: int, s: int, p: int, d: int, bias: bool, training: bool
) -> None:
    """The layer (train or eval mode) returns F.conv2d's numbers; its backward still matches autograd."""
    torch.manual_seed(seed)
    if side + 2 * p < d * (k - 1) + 1:
        side = d * (k - 1) + 1
    x = torch.randn(1, c, side, side)
    conv = Conv2d(c, o, k, stride=s, padding=p, dilation=d, bias=bias).train(training)
    y = conv.forward(x)
    assert rounds_as_torch(x, conv.weight, conv.stride, conv.dilation)
    assert torch.equal(y, F.conv2d(x, conv.weight, conv.bias, s, p, d))
    if training:
        xt = x.clone().requires_grad_(True)
        wt = conv.weight.detach().clone().requires_grad_(True)
        ref = F.conv2d(xt, wt, None, s, p, d)
        gy = torch.randn(ref.shape)
        ref.backward(gy)
        dx = conv.backward(gy)
        # float32 sums over the image in other orders (exact in float64: test_layers_conv.py); a wrong saved
        # matrix would be off by O(1)
        torch.testing.assert_close(dx, xt.grad, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(conv.weight.grad, wt.grad, rtol=1e-4, atol=1e-4)


def test_course_sequential_with_relu_between_convs_is_bitwise() -> None:
    """Sequential(Conv2d, ReLU, Conv2d, Sigmoid): the project-2 net's first layers at a student's check size."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 32, 32)
    seq = Sequential(Conv2d(3, 48, 3, stride=2, padding=1), ReLU(), Conv2d(48, 48, 3, stride=2, padding=1), Sigmoid())
    first, second = seq[0], seq[2]
    hidden = F.relu(F.conv2d(x, first.weight, first.bias, 2, 1))
    expected = F.conv2d(hidden, second.weight, second.bias, 2, 1).sigmoid()
    assert torch.equal(seq.forward(x), expected)


def test_unfold_conv2d_stays_the_reading_version() -> None:
    """UnfoldConv2d is W @ unfold(x) + b as its docstring writes it: not rounded as F.conv2d."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 32, 32)
    conv = UnfoldConv2d(3, 3, 3)
    cols = F.unfold(x, 3)
    plain = (conv.weight.reshape(3, -1) @ cols + conv.bias[:, None]).reshape(1, 3, 30, 30)
    assert torch.equal(conv.forward(x), plain)
