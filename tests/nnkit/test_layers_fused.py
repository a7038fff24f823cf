"""A NearestUpsampling followed by a Conv2d in a Sequential runs as one sub-pixel convolution, same numbers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import Conv2d, NearestUpsampling, ReLU, Sequential, SkipConcat, UnfoldConv2d
from nnkit.kernels import ConvSaved, SubPixelSaved
from nnkit.layers.fused import UpsampledConv, execution_plan
from nnkit.reference import to_torch
from tests.nnkit.parity import compare_layer, rel_err
from tests.strategies import image_shapes, seeds


def _pair(cin: int, cout: int, kernel: int, scale: int, padding: int, bias: bool, seed: int) -> Sequential:
    gen = torch.Generator().manual_seed(seed)
    conv = Conv2d(cin, cout, kernel, padding=padding, bias=bias, generator=gen)
    return Sequential(NearestUpsampling(scale), conv).to(dtype=torch.float64)


@given(
    shape=image_shapes(max_size=5),
    out_channels=st.integers(1, 3),
    kernel=st.integers(1, 4),
    scale=st.integers(1, 3),
    padding=st.integers(0, 2),
    bias=st.booleans(),
    seed=seeds,
)
def test_fused_pair_matches_torch_autograd(
    shape: tuple[int, int, int, int], out_channels: int, kernel: int, scale: int, padding: int, bias: bool, seed: int
) -> None:
    _, cin, h, w = shape
    if min(h, w) * scale + 2 * padding < kernel:
        return  # the convolution does not fit: Conv2d's own check says so (tested elsewhere)
    model = _pair(cin, out_channels, kernel, scale, padding, bias, seed)
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)

    def torch_forward(t: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        up = F.interpolate(t, scale_factor=scale, mode="nearest")
        return F.conv2d(up, p["1.weight"], p.get("1.bias"), padding=padding)

    compare_layer(model, x, torch_forward, seed)
    assert isinstance(model[1]._cols, SubPixelSaved)  # the fast path ran


def test_same_numbers_as_the_two_layers_one_after_the_other() -> None:
    model = _pair(5, 4, 3, 2, 1, True, seed=3)
    up, conv = model[0], model[1]
    x = torch.randn(3, 5, 7, 6, dtype=torch.float64)
    g = torch.randn(3, 4, 14, 12, dtype=torch.float64)
    fused_y = model.forward(x)
    model.zero_grad()
    fused_dx = model.backward(g)
    fused_grads = [p.grad.clone() for p in model.parameters()]

    plain_y = conv.forward(up.forward(x))
    assert isinstance(conv._cols, ConvSaved)  # the layers on their own: the plain convolution
    model.zero_grad()
    plain_dx = up.backward(conv.backward(g))
    assert rel_err(fused_y, plain_y) < 1e-14 and rel_err(fused_dx, plain_dx) < 1e-14
    for fused, p in zip(fused_grads, model.parameters(), strict=True):
        assert rel_err(fused, p.grad) < 1e-14


def test_state_dict_keys_and_twin_unchanged() -> None:
    model = Sequential(Conv2d(3, 4, 3, stride=2, padding=1), ReLU(), NearestUpsampling(2), Conv2d(4, 3, 3, padding=1))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias"]
    twin = to_torch(model)
    x = torch.rand(2, 3, 8, 8)
    assert torch.allclose(model.forward(x), twin(x), atol=1e-6)


def test_only_plain_stride_one_convolutions_after_upsampling_fuse() -> None:
    up = NearestUpsampling(2)
    plain, strided, dilated = Conv2d(2, 2, 3), Conv2d(2, 2, 3, stride=2), Conv2d(2, 2, 3, dilation=2)
    textbook = UnfoldConv2d(2, 2, 3)
    plan = execution_plan([up, plain, ReLU(), up, strided, up, dilated, up, textbook, plain, up])
    kinds = [type(step).__name__ for step in plan]
    assert kinds == [
        "UpsampledConv", "ReLU", "NearestUpsampling", "Conv2d", "NearestUpsampling", "Conv2d",
        "NearestUpsampling", "UnfoldConv2d", "Conv2d", "NearestUpsampling",
    ]  # fmt: skip
    assert isinstance(plan[0], UpsampledConv) and plan[0].conv is plain


def test_unfused_neighbours_still_match_torch() -> None:
    gen = torch.Generator().manual_seed(0)
    strided = Conv2d(2, 3, 3, stride=2, padding=1, generator=gen)
    model = Sequential(NearestUpsampling(2), strided).to(dtype=torch.float64)
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64)

    def torch_forward(t: torch.Tensor, p: dict[str, torch.Tensor]) -> torch.Tensor:
        up = F.interpolate(t, scale_factor=2, mode="nearest")
        return F.conv2d(up, p["1.weight"], p["1.bias"], stride=2, padding=1)

    compare_layer(model, x, torch_forward)


def test_fused_inside_a_skip_connection_like_a_unet_block() -> None:
    gen = torch.Generator().manual_seed(1)
    inner = Sequential(
        Conv2d(4, 4, 3, stride=2, padding=1, generator=gen), ReLU(), NearestUpsampling(2),
        Conv2d(4, 4, 3, padding=1, generator=gen),
    )  # fmt: skip
    model = Sequential(SkipConcat(inner), Conv2d(8, 3, 1, generator=gen)).to(dtype=torch.float64)
    twin = to_torch(model).double()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    xt = x.clone().requires_grad_()
    expected = twin(xt)
    g = torch.randn(expected.shape, dtype=torch.float64)
    expected.backward(g)
    assert rel_err(model.forward(x), expected.detach()) < 1e-12
    model.zero_grad()
    assert rel_err(model.backward(g), xt.grad) < 1e-12  # type: ignore[arg-type]
    assert isinstance(inner[3]._cols, SubPixelSaved)
    for (name, p), (_, q) in zip(model.named_parameters(), twin.named_parameters(), strict=True):
        assert rel_err(p.grad, q.grad) < 1e-12, name  # type: ignore[arg-type]


def test_eval_forward_keeps_nothing_and_says_so() -> None:
    model = _pair(2, 2, 3, 2, 1, True, seed=0).eval()
    y = model.forward(torch.rand(1, 2, 4, 4, dtype=torch.float64))
    assert y.shape == (1, 2, 8, 8)
    with pytest.raises(RuntimeError, match="eval mode"):
        model.backward(torch.zeros_like(y))


def test_wrong_input_names_the_layer() -> None:
    model = _pair(2, 2, 3, 2, 1, True, seed=0)
    with pytest.raises(ValueError, match="NearestUpsampling"):
        model.forward(torch.rand(2, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="Conv2d"):
        model.forward(torch.rand(1, 3, 4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="stride 1"):
        Conv2d(2, 2, 3, stride=2).forward_upsampled(torch.rand(1, 2, 4, 4), 2)
