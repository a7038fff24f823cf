"""nnkit.Parameter is a torch.Tensor: it goes where a tensor goes, keeps its own .grad, never requires grad."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import Conv2d, MSELoss, NearestUpsampling, Parameter, ReLU, Sequential, TransposeConv2d
from nnkit.optim import SGD, Adam


def test_a_parameter_is_a_tensor_that_never_requires_grad() -> None:
    data = torch.arange(6.0).reshape(2, 3)
    p = Parameter(data)
    assert isinstance(p, torch.Tensor) and not p.requires_grad and p.is_leaf
    assert p.data_ptr() == data.data_ptr()  # shares the storage, as torch.nn.Parameter does
    assert torch.equal(p.grad, torch.zeros(2, 3)) and p.grad.data_ptr() != p.data_ptr()
    assert type(p * 2) is torch.Tensor and type(p.data) is torch.Tensor  # results are plain tensors
    assert torch.equal(p + 1, data + 1) and p.sum().item() == 15.0


@given(
    n=st.integers(1, 3),
    cin=st.integers(1, 4),
    cout=st.integers(1, 4),
    k=st.integers(1, 3),
    stride=st.integers(1, 2),
    padding=st.integers(0, 1),
    bias=st.booleans(),
)
def test_weight_goes_into_torch_functional_conv2d(
    n: int, cin: int, cout: int, k: int, stride: int, padding: int, bias: bool
) -> None:
    """The course harness's check: F.conv2d(x, conv.weight, conv.bias) equals conv.forward(x)."""
    gen = torch.Generator().manual_seed(n * 100 + cin * 10 + cout)
    conv = Conv2d(cin, cout, k, stride=stride, padding=padding, bias=bias, generator=gen).to(dtype=torch.float64)
    x = torch.rand(n, cin, 7, 6, generator=gen, dtype=torch.float64)
    expected = F.conv2d(x, conv.weight, conv.bias, stride=stride, padding=padding)
    assert torch.allclose(conv.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_the_course_harness_check_as_written() -> None:
    conv = Conv2d(3, 8, 3)
    x = torch.rand(2, 3, 12, 12)
    assert torch.allclose(conv.forward(x), F.conv2d(x, conv.weight, conv.bias), atol=1e-6)


def test_transpose_conv_weight_is_the_conv_after_nearest_upsampling() -> None:
    layer = TransposeConv2d(4, 2, 3, scale_factor=2, padding=1).to(dtype=torch.float64)
    x = torch.rand(2, 4, 5, 6, dtype=torch.float64)
    expected = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), layer.weight, layer.bias, padding=1)
    assert torch.allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)


def _step(model: Sequential, opt: SGD | Adam) -> None:
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 3, 8, 8, generator=gen), torch.rand(2, 3, 8, 8, generator=gen)
    loss_fn = MSELoss()
    opt.zero_grad()
    loss_fn.forward(model.forward(x), y)
    model.backward(loss_fn.backward())
    opt.step()


@pytest.mark.parametrize("optimiser", [SGD, Adam])
def test_grad_buffers_and_parameters_stay_the_same_objects(optimiser: type[SGD] | type[Adam]) -> None:
    gen = torch.Generator().manual_seed(0)
    first, last = Conv2d(3, 4, 3, padding=1, generator=gen), Conv2d(4, 3, 3, padding=1, generator=gen)
    model = Sequential(first, ReLU(), NearestUpsampling(1), last)
    params = model.parameters()
    ids = [(id(p), id(p.grad), p.data_ptr(), p.grad.data_ptr()) for p in params]
    opt = optimiser(params, lr=0.01)
    with torch.set_grad_enabled(True):  # autograd on: still nothing is recorded
        _step(model, opt)
        _step(model, opt)
    assert [(id(p), id(p.grad), p.data_ptr(), p.grad.data_ptr()) for p in model.parameters()] == ids
    assert all(not p.requires_grad and p.grad_fn is None and p.grad.abs().sum() > 0 for p in params)
    model.zero_grad()
    assert all(torch.count_nonzero(p.grad) == 0 for p in params)


def test_module_to_moves_each_parameter_in_place() -> None:
    conv = Conv2d(2, 3, 3)
    weight = conv.weight
    assert conv.to(dtype=torch.float64).weight is weight
    assert weight.dtype == weight.grad.dtype == torch.float64
    moved = weight.to(torch.float32)  # Tensor.to: a new plain tensor, the parameter unchanged
    assert type(moved) is torch.Tensor and weight.dtype == torch.float64


def test_grad_set_to_none_is_reallocated_by_zero_grad() -> None:
    conv = Conv2d(2, 3, 3)
    conv.weight.grad = None  # type: ignore[assignment]  # PyTorch's set_to_none habit
    conv.zero_grad()
    assert torch.equal(conv.weight.grad, torch.zeros(3, 2, 3, 3))
    conv.bias.grad = None  # type: ignore[assignment]
    conv.to(dtype=torch.float64)
    assert conv.bias.grad.dtype == torch.float64 and torch.count_nonzero(conv.bias.grad) == 0


def test_copy_and_pickle_keep_the_type_and_values() -> None:
    p = Parameter(torch.rand(2, 3))
    p.grad.fill_(2.0)
    clone = copy.deepcopy(p)
    assert type(clone) is Parameter and clone.data_ptr() != p.data_ptr()
    assert torch.equal(clone, p) and torch.equal(clone.grad, p.grad)
    for restored in (pickle.loads(pickle.dumps(p)), _torch_roundtrip(p)):
        assert type(restored) is Parameter and torch.equal(restored, p) and not restored.requires_grad


def _torch_roundtrip(p: Parameter) -> Parameter:
    buffer = io.BytesIO()
    torch.save(p, buffer)
    buffer.seek(0)
    restored = torch.load(buffer, weights_only=False)
    assert isinstance(restored, Parameter)
    return restored
