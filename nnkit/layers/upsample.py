"""NearestUpsampling: repeat each pixel into an s x s block; backward sums each block."""

from __future__ import annotations

from torch import Tensor

from nnkit.layers._checks import expect_grad, expect_image
from nnkit.module import Module


def upsample_nearest(x: Tensor, s: int) -> Tensor:
    """(N, C, H, W) -> (N, C, H*s, W*s), each pixel repeated into an s x s block."""
    n, c, h, w = x.shape
    return x.view(n, c, h, 1, w, 1).expand(n, c, h, s, w, s).reshape(n, c, h * s, w * s)


def upsample_nearest_backward(grad_output: Tensor, s: int) -> Tensor:
    """Gradient of upsample_nearest: the sum of each s x s block."""
    n, c, hs, ws = grad_output.shape
    return grad_output.reshape(n, c, hs // s, s, ws // s, s).sum(dim=(3, 5))


def check_scale(scale_factor: int, layer: str) -> int:
    """A positive integer scale factor, or ValueError naming the layer."""
    if isinstance(scale_factor, bool) or not isinstance(scale_factor, int) or scale_factor < 1:
        raise ValueError(f"{layer}: scale_factor must be a positive int, got {scale_factor!r}")
    return scale_factor


class NearestUpsampling(Module):
    """Nearest-neighbour upsampling by an integer factor, like torch.nn.Upsample(mode='nearest')."""

    def __init__(self, scale_factor: int = 2) -> None:
        super().__init__()
        self.scale_factor = check_scale(scale_factor, "NearestUpsampling")
        self._out_shape: tuple[int, ...] | None = None

    def forward(self, x: Tensor) -> Tensor:
        expect_image(self._short_name(), x)
        y = upsample_nearest(x, self.scale_factor)
        self._out_shape = tuple(y.shape)
        return y

    def backward(self, grad_output: Tensor) -> Tensor:
        if self._out_shape is None:
            raise self._no_forward_error()
        expect_grad(self._short_name(), grad_output, self._out_shape)
        return upsample_nearest_backward(grad_output, self.scale_factor)

    def _short_name(self) -> str:
        return f"NearestUpsampling(scale_factor={self.scale_factor})"

    def extra_repr(self) -> str:
        return f"scale_factor={self.scale_factor}"
