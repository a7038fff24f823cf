"""Hypothesis strategies for nnkit tests: small shapes so that tests stay fast on 2 cores."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

small = st.integers(min_value=1, max_value=3)


@dataclass(frozen=True)
class ConvCase:
    """One Conv2d configuration and an input size it accepts."""

    batch: int
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    height: int
    width: int
    bias: bool

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_channels, self.height, self.width)


@st.composite
def pairs(draw: st.DrawFn, low: int, high: int) -> tuple[int, int]:
    """An (h, w) pair, often square."""
    a = draw(st.integers(low, high))
    if draw(st.booleans()):
        return (a, a)
    return (a, draw(st.integers(low, high)))


@st.composite
def conv_cases(draw: st.DrawFn, max_extra: int = 5) -> ConvCase:
    """Batch, channels, kernel, stride, padding, dilation and an odd-or-even image size that fits."""
    kernel = draw(pairs(1, 4))
    stride = draw(pairs(1, 3))
    padding = draw(pairs(0, 2))
    dilation = draw(pairs(1, 2))
    sizes = []
    for k, p, d in zip(kernel, padding, dilation, strict=True):
        need = max(1, d * (k - 1) + 1 - 2 * p)
        sizes.append(draw(st.integers(need, need + max_extra)))
    return ConvCase(
        batch=draw(small),
        in_channels=draw(small),
        out_channels=draw(small),
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        height=sizes[0],
        width=sizes[1],
        bias=draw(st.booleans()),
    )


@st.composite
def image_shapes(draw: st.DrawFn, channels: int | None = None, max_size: int = 9) -> tuple[int, int, int, int]:
    """(N, C, H, W) with small, often odd, sizes."""
    c = channels if channels is not None else draw(small)
    return (draw(small), c, draw(st.integers(1, max_size)), draw(st.integers(1, max_size)))


seeds = st.integers(min_value=0, max_value=2**31 - 1)
