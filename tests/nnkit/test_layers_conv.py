"""Conv2d against torch autograd over hypothesis shapes; init; errors naming the layer and shapes."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import Conv2d, ShapeError
from tests.nnkit.parity import compare_layer
from tests.strategies import ConvCase, conv_cases, seeds


def make_conv(case: ConvCase, dtype: torch.dtype, seed: int) -> Conv2d:
    gen = torch.Generator().manual_seed(seed)
    return Conv2d(
        case.in_channels,
        case.out_channels,
        case.kernel_size,
        case.stride,
        case.padding,
        case.dilation,
        case.bias,
        generator=gen,
        dtype=dtype,
    )


def torch_conv(layer: Conv2d) -> Callable[[torch.Tensor, dict[str, torch.Tensor]], torch.Tensor]:
    def run(x: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        return F.conv2d(x, p["weight"], p.get("bias"), layer.stride, layer.padding, layer.dilation)

    return run


@given(case=conv_cases(), seed=seeds, dtype=st.sampled_from([torch.float64, torch.float32]))
def test_conv_matches_torch(case: ConvCase, seed: int, dtype: torch.dtype) -> None:
    layer = make_conv(case, dtype, seed)
    x = torch.randn(case.input_shape, generator=torch.Generator().manual_seed(seed + 1), dtype=dtype)
    compare_layer(layer, x, torch_conv(layer), seed)
    ho, wo = layer.output_size(case.height, case.width)
    assert layer.forward(x).shape == (case.batch, case.out_channels, ho, wo)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation"),
    [
        (8, 3, 2, 0, 1),  # (8 - 2 - 1) = 5 is not a multiple of 2: the last row is never used
        (9, 3, 2, 1, 1),
        (10, 2, 3, 1, 2),
        (7, 4, 3, 0, 1),
        (5, 5, 1, 2, 1),
    ],
)
def test_input_gradient_exact_when_stride_does_not_divide(
    size: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    layer = Conv2d(2, 3, kernel, stride, padding, dilation, dtype=torch.float64)
    x = torch.randn(2, 2, size, size + 1, dtype=torch.float64)
    errors = compare_layer(layer, x, torch_conv(layer))
    assert errors["input"] < 1e-12


def test_rectangular_kernel_stride_padding_dilation() -> None:
    layer = Conv2d(3, 2, (2, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 1), dtype=torch.float64)
    assert layer.weight.shape == (2, 3, 2, 3) and layer.bias is not None and layer.bias.shape == (2,)
    compare_layer(layer, torch.randn(1, 3, 6, 7, dtype=torch.float64), torch_conv(layer))


def test_default_init_is_pytorchs() -> None:
    torch.manual_seed(3)
    theirs = torch.nn.Conv2d(4, 5, 3)
    torch.manual_seed(3)
    ours = Conv2d(4, 5, 3)
    torch.testing.assert_close(ours.weight.data, theirs.weight.data)
    torch.testing.assert_close(ours.bias.data, theirs.bias.data)  # type: ignore[union-attr]
    bound = 1 / math.sqrt(4 * 9)
    assert float(ours.weight.data.abs().max()) <= bound


def test_generator_makes_init_reproducible() -> None:
    a = Conv2d(3, 4, 3, generator=torch.Generator().manual_seed(7))
    b = Conv2d(3, 4, 3, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a.weight.data, b.weight.data)
    assert a.bias is not None and b.bias is not None and torch.equal(a.bias.data, b.bias.data)


def test_no_bias() -> None:
    layer = Conv2d(2, 3, 3, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


def test_dtype_and_device_kwargs() -> None:
    layer = Conv2d(2, 3, 3, dtype=torch.float64, device="cpu")
    assert layer.weight.data.dtype == torch.float64 and layer.weight.grad.dtype == torch.float64


def test_wrong_channel_count_names_layer_and_shape() -> None:
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 16, k=3\).*3 input channels.*\(2, 4, 8, 8\)"):
        Conv2d(3, 16, 3)(torch.zeros(2, 4, 8, 8))


def test_3d_input_rejected() -> None:
    with pytest.raises(ShapeError, match=r"Conv2d\(3, 16, k=3\).*4-D.*\(3, 8, 8\)"):
        Conv2d(3, 16, 3)(torch.zeros(3, 8, 8))


def test_image_smaller_than_kernel() -> None:
    with pytest.raises(ShapeError, match=r"Conv2d\(1, 1, k=5\).*\(1, 1, 4, 9\).*smaller.*5x5"):
        Conv2d(1, 1, 5)(torch.zeros(1, 1, 4, 9))
    with pytest.raises(ShapeError, match="dilated"):
        Conv2d(1, 1, 3, dilation=3)(torch.zeros(1, 1, 6, 6))
    Conv2d(1, 1, 5, padding=1)(torch.zeros(1, 1, 3, 3))  # fits with padding


def test_backward_before_forward() -> None:
    with pytest.raises(RuntimeError, match=r"Conv2d\(2, 2, k=3\)\.backward\(\) called before forward"):
        Conv2d(2, 2, 3).backward(torch.zeros(1, 2, 3, 3))


def test_grad_output_shape_must_match() -> None:
    layer = Conv2d(2, 2, 3)
    layer(torch.zeros(1, 2, 5, 5))
    with pytest.raises(ShapeError, match=r"Conv2d\(2, 2, k=3\).*\(1, 2, 4, 4\).*\(1, 2, 3, 3\)"):
        layer.backward(torch.zeros(1, 2, 4, 4))


@pytest.mark.parametrize(
    "kwargs",
    [{"kernel_size": 0}, {"stride": 0}, {"padding": -1}, {"dilation": 0}, {"kernel_size": (1, 2, 3)}],
)
def test_bad_hyperparameters(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"in_channels": 2, "out_channels": 2, "kernel_size": 3} | kwargs
    with pytest.raises((ValueError, TypeError)):
        Conv2d(**args)  # type: ignore[arg-type]
