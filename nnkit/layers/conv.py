"""Conv2d: im2col + one matrix product over the whole batch; backward by matmul and an exact col2im.

The arithmetic lives in nnkit.kernels (channels-last im2col through as_strided, fused bias,
col2im as shifted slice additions): the fast paths, tested against torch autograd.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from nnkit.kernels import (
    SubPixelSaved,
    conv2d_backward,
    conv2d_forward,
    release_scratch,
    upsample_conv_backward,
    upsample_conv_forward,
)
from nnkit.layers._checks import count, expect_grad, expect_image, flag, pair
from nnkit.module import Module, Parameter, ShapeError


class Conv2d(Module):
    """2-D convolution (cross-correlation) like torch.nn.Conv2d: .weight (out, in, kh, kw), .bias (out,)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        bias: bool = True,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = count(in_channels, "in_channels", type(self).__name__)
        self.out_channels = count(out_channels, "out_channels", type(self).__name__)
        flag(bias, "bias", type(self).__name__)
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        if in_channels < 1 or out_channels < 1:
            raise ValueError(f"Conv2d needs positive channel counts, got {in_channels}, {out_channels}")
        if min(self.kernel_size + self.stride + self.dilation) < 1 or min(self.padding) < 0:
            raise ValueError(
                f"Conv2d: kernel_size, stride, dilation must be >= 1 and padding >= 0, got "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}"
            )
        kh, kw = self.kernel_size
        fan_in = in_channels * kh * kw
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and PyTorch's bias bound coincide
        # Drawn on the generator's device (so a CPU generator seeds CUDA weights identically), then moved.
        where = generator.device if generator is not None else device

        def uniform(*shape: int) -> Tensor:
            t = torch.empty(*shape, device=where, dtype=dtype).uniform_(-bound, bound, generator=generator)
            return t.to(device) if device is not None else t

        self.weight = Parameter(uniform(out_channels, in_channels, kh, kw))
        self.bias: Parameter | None = Parameter(uniform(out_channels)) if bias else None
        self._cols: Any = None  # what the kernel kept for backward (ConvSaved / SubPixelSaved)
        self._ws: dict[str, Tensor] = {}  # scratch tensors reused between training steps (nnkit.kernels)
        self._out_shape: tuple[int, ...] = ()

    # -- forward and backward --------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        """Convolve x (N, in, H, W) -> (N, out, Ho, Wo)."""
        self._check_input(x)
        return self._convolve(x)

    def forward_upsampled(self, x: Tensor, scale: int) -> Tensor:
        """Convolve x upsampled by ``scale`` (nearest) without building the large image (stride 1, dilation 1).

        One sub-pixel convolution of the low-resolution x: the numbers of
        ``forward(upsample_nearest(x, scale))``, 2.25x fewer multiply-adds for k=3, s=2.
        ``backward`` then returns the gradient with respect to the low-resolution x.
        """
        if self.stride != (1, 1) or self.dilation != (1, 1):
            raise ValueError(
                f"{self._short_name()}.forward_upsampled needs stride 1 and dilation 1, "
                f"got stride={self.stride}, dilation={self.dilation}"
            )
        self._check_input(x, scale)
        return self._upsample_convolve(x, scale)

    def backward(self, grad_output: Tensor) -> Tensor:
        """Add dL/dweight, dL/dbias into .grad and return dL/dx (of the input the last forward saw)."""
        saved = self._saved_for_backward(grad_output)
        bias_grad = self.bias.grad if self.bias is not None else None
        weight, weight_grad = self.weight.data, self.weight.grad
        if isinstance(saved, SubPixelSaved):
            dx = upsample_conv_backward(grad_output, saved, weight, weight_grad, bias_grad, ws=self._ws)
        else:
            dx = conv2d_backward(
                grad_output, saved, weight, weight_grad, bias_grad, self.stride, self.dilation, ws=self._ws
            )
        assert dx is not None
        return dx

    def _saved_for_backward(self, grad_output: Tensor) -> Any:
        if self._cols is None:
            raise self._no_forward_error()
        expect_grad(self._short_name(), grad_output, self._out_shape)
        if self._cols.cols is None:
            raise RuntimeError(
                f"{self._short_name()}.backward(): the forward pass ran in eval mode and kept nothing; "
                "call model.train() before a forward pass that needs a backward"
            )
        return self._cols

    def _convolve(self, x: Tensor) -> Tensor:
        """The maths of forward, without input checks."""
        bias = self.bias.data if self.bias is not None else None
        y, saved = conv2d_forward(
            x, self.weight.data, bias, self.stride, self.padding, self.dilation, save=self.training, ws=self._ws
        )
        self._cols = saved
        self._out_shape = tuple(y.shape)
        return y

    def _upsample_convolve(self, x: Tensor, scale: int) -> Tensor:
        """The maths of forward_upsampled (and of TransposeConv2d.forward), without input checks."""
        bias = self.bias.data if self.bias is not None else None
        weight = self.weight.data
        y, saved = upsample_conv_forward(x, weight, bias, scale, self.padding, save=self.training, ws=self._ws)
        self._cols = saved
        self._out_shape = tuple(y.shape)
        return y

    # -- shapes ----------------------------------------------------------------------
    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """Output (Ho, Wo) for an input of size (h, w)."""
        return self._conv_output_size(*self._conv_input_size(h, w))

    def _conv_input_size(self, h: int, w: int) -> tuple[int, int]:
        """The size the convolution itself sees for an input of size (h, w)."""
        return h, w

    def _conv_output_size(self, h: int, w: int) -> tuple[int, int]:
        sizes = []
        for size, k, s, p, d in zip((h, w), self.kernel_size, self.stride, self.padding, self.dilation, strict=True):
            sizes.append((size + 2 * p - d * (k - 1) - 1) // s + 1)
        return sizes[0], sizes[1]

    def _check_input(self, x: Tensor, scale: int = 1) -> None:
        """x fits the layer; ``scale``: x is to be upsampled by it first (forward_upsampled)."""
        name = self._short_name()
        expect_image(name, x, self.in_channels)
        weight = self.weight.data
        if x.dtype != weight.dtype or x.device != weight.device:
            raise TypeError(
                f"{name}: input is {x.dtype} on {x.device} but the weights are {weight.dtype} on {weight.device}"
                " (move the model with .to())"
            )
        h, w = self._conv_input_size(x.shape[-2] * scale, x.shape[-1] * scale)
        need = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation, strict=True)]
        if h + 2 * self.padding[0] < need[0] or w + 2 * self.padding[1] < need[1]:
            raise ShapeError(
                f"{name}: input shape {tuple(x.shape)} is smaller than the (dilated) kernel "
                f"{need[0]}x{need[1]} with padding {self.padding}"
            )

    def _moved(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        self._cols = None
        self._ws.clear()
        release_scratch()

    def _short_name(self) -> str:
        k = self.kernel_size[0] if self.kernel_size[0] == self.kernel_size[1] else self.kernel_size
        return f"{type(self).__name__}({self.in_channels}, {self.out_channels}, k={k})"

    def extra_repr(self) -> str:
        parts = [f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"]
        if self.padding != (0, 0):
            parts.append(f"padding={self.padding}")
        if self.dilation != (1, 1):
            parts.append(f"dilation={self.dilation}")
        if self.bias is None:
            parts.append("bias=False")
        return ", ".join(parts)
