"""nnkit: neural-network layers whose forward and backward passes are written by hand on torch tensors."""

from nnkit.module import Module, Parameter, ShapeError

__version__ = "0.1.0"
__all__ = ["Module", "Parameter", "ShapeError", "__version__"]
