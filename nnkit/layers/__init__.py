"""nnkit layers, one concept a file."""

from nnkit.layers.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from nnkit.layers.containers import Residual, Sequential, SkipConcat
from nnkit.layers.conv import Conv2d
from nnkit.layers.textbook import UnfoldConv2d
from nnkit.layers.transpose_conv import TransposeConv2d
from nnkit.layers.upsample import NearestUpsampling

__all__ = [
    "Conv2d",
    "LeakyReLU",
    "NearestUpsampling",
    "ReLU",
    "Residual",
    "Sequential",
    "Sigmoid",
    "SkipConcat",
    "Tanh",
    "TransposeConv2d",
    "UnfoldConv2d",
]
