"""Upsample-then-convolve pairs in a Sequential, run as one sub-pixel convolution.

The report writes its "transpose convolution" as a NearestUpsampling followed by a Conv2d.
Run one after the other, the convolution reads an s*s times larger image; a Sequential
instead hands the low-resolution input to ``Conv2d.forward_upsampled``, the kernel
TransposeConv2d runs: the same numbers (to rounding), 2.25x fewer multiply-adds for k=3, s=2,
and no large upsampled image to build or to sum back. Both layers stay in the Sequential,
so its state_dict keys (and its torch.nn twin) do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from nnkit.layers._checks import expect_image
from nnkit.layers.conv import Conv2d
from nnkit.layers.upsample import NearestUpsampling
from nnkit.module import Module


class UpsampledConv:
    """A NearestUpsampling and the Conv2d after it, run as one step of a Sequential (not a Module: owns nothing)."""

    def __init__(self, upsample: NearestUpsampling, conv: Conv2d) -> None:
        self.upsample, self.conv = upsample, conv

    def forward(self, x: Tensor) -> Tensor:
        expect_image(self.upsample._short_name(), x)
        return self.conv.forward_upsampled(x, self.upsample.scale_factor)

    def backward(self, grad_output: Tensor) -> Tensor:
        return self.conv.backward(grad_output)  # the gradient of the low-resolution input


def fuses(first: Module, second: Module) -> bool:
    """Whether ``first`` then ``second`` is a nearest upsampling into a plain stride-1, undilated Conv2d."""
    return (
        type(first) is NearestUpsampling
        and type(second) is Conv2d  # not subclasses: UnfoldConv2d spells its own maths out, TransposeConv2d upsamples
        and second.stride == (1, 1)
        and second.dilation == (1, 1)
    )


def execution_plan(layers: Sequence[Module]) -> list[Module | UpsampledConv]:
    """The layers in order, each fusable (NearestUpsampling, Conv2d) pair replaced by one UpsampledConv."""
    plan: list[Module | UpsampledConv] = []
    i = 0
    while i < len(layers):
        first = layers[i]
        if i + 1 < len(layers) and fuses(first, layers[i + 1]):
            second = layers[i + 1]
            assert isinstance(first, NearestUpsampling) and isinstance(second, Conv2d)
            plan.append(UpsampledConv(first, second))
            i += 2
        else:
            plan.append(first)
            i += 1
    return plan
