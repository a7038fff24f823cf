"""NearestUpsampling and TransposeConv2d (upsampling + convolution) against torch autograd."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import NearestUpsampling, ShapeError, TransposeConv2d
from tests.nnkit.parity import compare_layer
from tests.strategies import image_shapes, seeds

dtypes = st.sampled_from([torch.float64, torch.float32])


@given(shape=image_shapes(), scale=st.integers(1, 3), seed=seeds, dtype=dtypes)
def test_upsampling_matches_torch(shape: tuple[int, ...], scale: int, seed: int, dtype: torch.dtype) -> None:
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    layer = NearestUpsampling(scale)
    compare_layer(layer, x, lambda t, _: F.interpolate(t, scale_factor=scale, mode="nearest"), seed)


def test_upsampling_backward_sums_each_block() -> None:
    layer = NearestUpsampling(2)
    layer(torch.zeros(1, 1, 1, 2))
    g = torch.tensor([[[[1.0, 2.0, 10.0, 20.0], [3.0, 4.0, 30.0, 40.0]]]])
    assert torch.equal(layer.backward(g), torch.tensor([[[[10.0, 100.0]]]]))


@given(
    shape=image_shapes(max_size=5),
    out_channels=st.integers(1, 3),
    kernel=st.integers(1, 4),
    scale=st.integers(1, 3),
    padding=st.integers(0, 2),
    bias=st.booleans(),
    seed=seeds,
    dtype=dtypes,
)
def test_transpose_conv_matches_torch(
    shape: tuple[int, int, int, int],
    out_channels: int,
    kernel: int,
    scale: int,
    padding: int,
    bias: bool,
    seed: int,
    dtype: torch.dtype,
) -> None:
    n, c, h, w = shape
    h, w = max(h, kernel), max(w, kernel)  # the upsampled image always covers the kernel then
    gen = torch.Generator().manual_seed(seed)
    layer = TransposeConv2d(c, out_channels, kernel, scale, padding, bias, generator=gen, dtype=dtype)
    x = torch.randn(n, c, h, w, generator=gen, dtype=dtype)

    def reference(t: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        up = F.interpolate(t, scale_factor=scale, mode="nearest")
        return F.conv2d(up, p["weight"], p.get("bias"), padding=padding)

    compare_layer(layer, x, reference, seed)
    assert layer.forward(x).shape[2:] == layer.output_size(h, w)


def test_transpose_conv_keys_and_shapes() -> None:
    layer = TransposeConv2d(8, 3, 3, scale_factor=2, padding=1)
    assert {k: tuple(v.shape) for k, v in layer.state_dict().items()} == {"weight": (3, 8, 3, 3), "bias": (3,)}
    assert layer(torch.zeros(2, 8, 5, 7)).shape == (2, 3, 10, 14)
    assert "scale_factor=2" in repr(layer)


def test_transpose_conv_errors_name_layer() -> None:
    layer = TransposeConv2d(4, 2, 3)
    with pytest.raises(ShapeError, match=r"TransposeConv2d\(4, 2, k=3, scale_factor=2\).*\(1, 3, 5, 5\)"):
        layer(torch.zeros(1, 3, 5, 5))
    with pytest.raises(ShapeError, match=r"TransposeConv2d.*4-D"):
        layer(torch.zeros(4, 5, 5))
    with pytest.raises(ShapeError, match=r"TransposeConv2d.*\(1, 4, 1, 5\).*smaller"):
        layer(torch.zeros(1, 4, 1, 5))
    with pytest.raises(RuntimeError, match=r"TransposeConv2d.*before forward"):
        TransposeConv2d(4, 2, 3).backward(torch.zeros(1, 2, 8, 8))
    layer(torch.zeros(1, 4, 3, 3))
    with pytest.raises(ShapeError, match=r"TransposeConv2d.*\(1, 2, 4, 4\)"):
        layer.backward(torch.zeros(1, 2, 3, 3))


def test_upsampling_errors() -> None:
    with pytest.raises(ValueError, match="scale_factor"):
        NearestUpsampling(0)
    with pytest.raises(ValueError, match="scale_factor"):
        NearestUpsampling(1.5)  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match=r"NearestUpsampling.*4-D.*\(2, 3\)"):
        NearestUpsampling()(torch.zeros(2, 3))
    layer = NearestUpsampling()
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(torch.zeros(1, 1, 2, 2))
    layer(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ShapeError, match=r"\(1, 1, 5, 4\).*\(1, 1, 4, 4\)"):
        layer.backward(torch.zeros(1, 1, 5, 4))
