"""Library errors name the argument at fault (a careless caller gets a sentence, not a comparison traceback)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnkit import Conv2d, LeakyReLU, ReLU, Sequential, TransposeConv2d


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("3", 8, 3), {}, TypeError, "in_channels must be an int, got '3'"),
        ((3, 8.0, 3), {}, TypeError, "out_channels must be an int, got 8.0"),
        ((True, 8, 3), {}, TypeError, "in_channels must be an int"),
        ((0, 8, 3), {}, ValueError, "in_channels must be at least 1, got 0"),
        ((3, -2, 3), {}, ValueError, "out_channels must be at least 1, got -2"),
        ((3, 8, "3"), {}, TypeError, "kernel_size must be an int or a pair of ints"),
        ((3, 8, 3), {"bias": "no"}, TypeError, "bias must be True or False, got 'no'"),
        ((3, 8, 3), {"stride": 0}, ValueError, "stride"),
    ],
)
def test_conv2d_names_the_bad_argument(args: tuple, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Conv2d(*args, **kwargs)


def test_transpose_conv_and_leaky_relu_name_theirs() -> None:
    with pytest.raises(TypeError, match="TransposeConv2d: in_channels must be an int"):
        TransposeConv2d("8", 3, 3)
    with pytest.raises(TypeError, match="negative_slope must be a finite number"):
        LeakyReLU("0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="negative_slope must be a finite number"):
        LeakyReLU(float("nan"))


def model() -> Sequential:
    return Sequential(Conv2d(3, 4, 3, padding=1), ReLU(), Conv2d(4, 3, 1))


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (np.zeros((4, 3, 3, 3), dtype=np.float32), TypeError, "'0.weight' must be a torch.Tensor, got ndarray"),
        (None, TypeError, "'0.weight' must be a torch.Tensor, got NoneType"),
        (torch.zeros(4, 3, 3, 3, dtype=torch.int64), TypeError, "'0.weight' has dtype torch.int64"),
        (torch.full((4, 3, 3, 3), float("nan")), ValueError, "'0.weight' holds NaN or Inf"),
        (torch.full((4, 3, 3, 3), float("inf")), ValueError, "'0.weight' holds NaN or Inf"),
    ],
)
def test_load_state_dict_names_the_bad_entry_and_changes_nothing(value: object, error: type, message: str) -> None:
    m = model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    state = dict(m.state_dict())
    state["2.bias"] = torch.ones(3)  # a good entry, which must not be copied either
    state["0.weight"] = value  # type: ignore[assignment]
    with pytest.raises(error, match=message):
        m.load_state_dict(state)  # type: ignore[arg-type]
    for k, v in m.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_load_state_dict_of_something_else() -> None:
    with pytest.raises(TypeError, match="expects a mapping of names to tensors, got list"):
        model().load_state_dict([1, 2])  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="missing keys"):
        model().load_state_dict({})
