"""Shared input checks for nnkit layers: every message names the layer and the shapes."""

from __future__ import annotations

from torch import Tensor

from nnkit.module import ShapeError


def pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """An int or an (h, w) pair as a pair of ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    if isinstance(value, tuple | list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def count(value: object, name: str, layer: str) -> int:
    """A positive int argument (channel counts), or a TypeError/ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{layer}: {name} must be at least 1, got {value}")
    return value


def flag(value: object, name: str, layer: str) -> bool:
    """A bool argument, or a TypeError naming it (a truthy string is no answer)."""
    if not isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be True or False, got {value!r}")
    return value


def expect_image(layer: str, x: Tensor, channels: int | None = None) -> None:
    """Raise ShapeError unless x is a 4-D (N, C, H, W) tensor with `channels` channels."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ShapeError(f"{layer} expects a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if channels is not None and x.shape[1] != channels:
        raise ShapeError(f"{layer} expects {channels} input channels, got shape {tuple(x.shape)}")


def expect_grad(layer: str, grad_output: Tensor, shape: tuple[int, ...]) -> None:
    """Raise ShapeError unless grad_output has the shape of the last forward output."""
    if tuple(grad_output.shape) != shape:
        raise ShapeError(
            f"{layer}.backward: grad_output shape {tuple(grad_output.shape)} does not match "
            f"the last output shape {shape}"
        )
