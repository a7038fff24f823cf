"""UnfoldConv2d: Conv2d written the plainest way, for reading (the course report's version).

The fast Conv2d (nnkit.layers.conv) hands its arithmetic to nnkit.kernels. This layer keeps the
same parameters, checks and results, but spells backpropagation out with torch's unfold/fold:

    cols = unfold(x)            (N, C*kh*kw, L)   one column per output position, L = Ho*Wo
    y    = W @ cols + b         (N, out, L)       W is the weight viewed as (out, C*kh*kw)
"""

from __future__ import annotations

from torch import Tensor
from torch.nn.functional import fold, unfold

from nnkit.layers._checks import expect_grad
from nnkit.layers.conv import Conv2d


class UnfoldConv2d(Conv2d):
    """Conv2d whose forward is unfold + one matrix product and whose backward is matmuls + fold."""

    _in_size: tuple[int, int] = (0, 0)  # (H, W) of the last forward input

    def forward(self, x: Tensor) -> Tensor:
        """y[n] = W @ unfold(x)[n] + b, reshaped to (N, out, Ho, Wo).

        unfold copies every kh*kw patch of every channel (padded, dilated, strided as the layer says)
        into a column, so the convolution becomes one batched matrix product. The columns and the
        input size are all that backward needs.
        """
        self._check_input(x)
        cols = unfold(x, self.kernel_size, dilation=self.dilation, padding=self.padding, stride=self.stride)
        y = self.weight.data.reshape(self.out_channels, -1) @ cols  # (out, CKK) @ (N, CKK, L) -> (N, out, L)
        if self.bias is not None:
            y = y + self.bias.data[:, None]
        self._cols = cols
        self._in_size = (x.shape[-2], x.shape[-1])
        ho, wo = self._conv_output_size(*self._in_size)
        return y.reshape(x.shape[0], self.out_channels, ho, wo)

    def backward(self, grad_output: Tensor) -> Tensor:
        """Chain rule through y = W @ cols + b, with G = grad_output viewed as (N, out, L).

        dL/dW    = sum_n G[n] @ cols[n]^T    (each weight meets each column once per output position)
        dL/db    = sum of G over n and the L positions (over N, H, W)
        dL/dcols = W^T @ G[n]
        dL/dx    = fold(dL/dcols): the adjoint of unfold adds each column entry back onto the input
                   pixel it was copied from (overlapping patches sum; padding is dropped). The
                   explicit output_size keeps the rows/columns a stride skipped, as zero gradient.
        Parameter gradients are added into .grad (they accumulate until zero_grad()).
        """
        cols = self._cols
        if cols is None:
            raise self._no_forward_error()
        n = cols.shape[0]
        expect_grad(self._short_name(), grad_output, (n, self.out_channels, *self._conv_output_size(*self._in_size)))
        g = grad_output.reshape(n, self.out_channels, -1)  # (N, out, L)
        weight = self.weight.data.reshape(self.out_channels, -1)  # (out, CKK)
        self.weight.grad += (g @ cols.transpose(1, 2)).sum(0).reshape(self.weight.grad.shape)
        if self.bias is not None:
            self.bias.grad += grad_output.sum(dim=(0, 2, 3))
        grad_cols = weight.t() @ g  # (CKK, out) @ (N, out, L) -> (N, CKK, L)
        return fold(
            grad_cols,
            output_size=self._in_size,
            kernel_size=self.kernel_size,
            dilation=self.dilation,
            padding=self.padding,
            stride=self.stride,
        )
