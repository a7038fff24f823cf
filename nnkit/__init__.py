"""nnkit: neural-network layers whose forward and backward passes are written by hand on torch tensors."""

from nnkit.layers import (
    Conv2d,
    LeakyReLU,
    NearestUpsampling,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    SkipConcat,
    Tanh,
    TransposeConv2d,
    UnfoldConv2d,
)
from nnkit.loss import L1Loss, MaskedL1Loss, MaskedMSELoss, MSELoss
from nnkit.module import Module, Parameter, ShapeError

__version__ = "0.1.0"
__all__ = [
    "Conv2d",
    "L1Loss",
    "LeakyReLU",
    "MSELoss",
    "MaskedL1Loss",
    "MaskedMSELoss",
    "Module",
    "NearestUpsampling",
    "Parameter",
    "ReLU",
    "Residual",
    "Sequential",
    "ShapeError",
    "Sigmoid",
    "SkipConcat",
    "Tanh",
    "TransposeConv2d",
    "UnfoldConv2d",
    "__version__",
]
