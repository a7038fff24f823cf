"""One instance of every nnkit layer type (small), for tests parametrised over all layers."""

from __future__ import annotations

from collections.abc import Callable

import torch

from nnkit import (
    Conv2d,
    LeakyReLU,
    Module,
    NearestUpsampling,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    SkipConcat,
    Tanh,
    TransposeConv2d,
)

INPUT_SHAPE = (2, 3, 5, 6)


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


LAYERS: dict[str, Callable[[], Module]] = {
    "conv": lambda: Conv2d(3, 4, 3, padding=1, generator=_gen()),
    "conv_rect_strided_nobias": lambda: Conv2d(3, 2, (2, 3), stride=2, dilation=(1, 2), bias=False, generator=_gen()),
    "upsample": lambda: NearestUpsampling(2),
    "transpose_conv": lambda: TransposeConv2d(3, 2, 3, scale_factor=2, padding=1, generator=_gen()),
    "relu": ReLU,
    "leaky_relu": lambda: LeakyReLU(0.2),
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "sequential": lambda: Sequential(Conv2d(3, 4, 3, generator=_gen()), ReLU(), Conv2d(4, 2, 1, generator=_gen())),
    "skip_concat": lambda: SkipConcat(Sequential(Conv2d(3, 2, 3, padding=1, generator=_gen()), Tanh())),
    "residual": lambda: Residual(Conv2d(3, 3, 1, generator=_gen())),
}
