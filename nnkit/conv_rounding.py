"""Conv2d's forward rounded as F.conv2d rounds it, where torch's CPU convolution is im2col + one gemm.

Why this exists: float32 sums taken in another order differ in their last bits. The course's
test checks ``torch.allclose(conv.forward(x), F.conv2d(x, conv.weight, conv.bias))`` with the
default ``atol=1e-8``; an output near zero then fails on a difference of 1e-7. nnkit's fast
kernel (nnkit.kernels) sums each output over (kh, kw, C) with one product of the whole
batch; F.conv2d, on the shapes such a test uses, sums over (C, kh, kw), image by image.

Which CPU backend F.conv2d takes (ATen's ``ConvParams::use_mkldnn``, torch 2.x): oneDNN for
float32 when the batch is above 1, the input holds more than 20480 numbers, or the kernel is
larger than 3 along both sides (a 1x1 kernel has its own rule); otherwise, and for every
float64 call, the "slow" path (``_slow_conv2d_forward``, ``slow_conv_dilated2d``): for each
image the output starts as the bias and one gemm adds weight (O, C·kh·kw) @ columns
(C·kh·kw, L) into it. ``torch.addmm`` with the bias as its added term hands MKL the same
operands in the same layout, hence the same rounding. A channels-last input (or weight)
switches the slow path to (kh, kw, C) columns times the transposed weight.

Everything else keeps the fast kernel. Measured on the development VM (oneDNN 3.12, AVX-512):
oneDNN's direct convolution sums each block of 16 input channels over (kh, kw, c) and adds the
blocks to the bias one after another. The fast kernel has that order when in_channels <= 16, and
gave F.conv2d's bits in the cases tried with 16 or more output channels (3 or 16 inputs, 16 to 48
outputs; MKL sums a narrower product another way). Matching wider inputs would take one product
per 16 input channels and a pass over the output for each: not done.

tests/nnkit/test_conv_rounding.py checks, over a grid of shapes, that whenever
``rounds_as_torch`` says so, ``slow_path_conv2d`` equals F.conv2d bit for bit.
"""

from __future__ import annotations

import torch
from torch import Tensor

MKLDNN_MIN_NUMEL = 20480  # ATen: above this many input numbers a batch-1 float32 conv goes to oneDNN


def takes_slow_path(x: Tensor, weight: Tensor, stride: tuple[int, int], dilation: tuple[int, int]) -> bool:
    """Whether F.conv2d(x, weight, ...) on this machine runs ATen's im2col + gemm path (mirrors use_mkldnn)."""
    if x.device.type != "cpu" or x.dim() != 4 or x.dtype not in (torch.float32, torch.float64):
        return False
    if x.dtype == torch.float64:
        return True  # oneDNN and NNPACK take float32 only
    if not (torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled):
        return x.shape[0] < 16  # batches of 16 or more may go to NNPACK instead: not emulated
    n, c, h, w = x.shape
    kh, kw = weight.shape[-2:]
    strided_or_dilated = stride != (1, 1) or dilation != (1, 1)
    one_by_one_alone = not strided_or_dilated and n < 16 and kh == 1 and kw == 1 and torch.get_num_threads() == 1
    if one_by_one_alone:
        return True  # ATen: a 1x1 kernel on one thread is faster without oneDNN
    return not ((kh > 3 and kw > 3) or n > 1 or n * c * h * w > MKLDNN_MIN_NUMEL)


def rounds_as_torch(x: Tensor, weight: Tensor, stride: tuple[int, int], dilation: tuple[int, int]) -> bool:
    """Whether ``slow_path_conv2d(x, ...)`` gives F.conv2d's numbers here: one image on its slow path.

    One image only: ATen runs the images of a larger batch in parallel threads, each gemm
    then single-threaded and blocked differently (seen in float64, the only dtype whose
    larger batches take the slow path with oneDNN on).
    """
    return x.dim() == 4 and x.shape[0] == 1 and takes_slow_path(x, weight, stride, dilation)


def suggests_channels_last(t: Tensor) -> bool:
    """ATen's ``suggest_memory_format() == ChannelsLast`` for a 4-D tensor (c10 is_channels_last_strides_2d)."""
    sizes, strides = t.shape, t.stride()
    if strides[1] == 0:
        return False
    smallest = 0
    for d in (1, 3, 2, 0):
        if sizes[d] == 0 or strides[d] < smallest:
            return False
        if d == 0 and smallest == strides[1]:
            return False  # ambiguous (N, 1, 1, 1)-like strides: ATen defaults to NCHW
        smallest = strides[d] * (sizes[d] if sizes[d] > 1 else 1)
    return True


def _padded(x: Tensor, padding: tuple[int, int]) -> Tensor:
    """x with a zero border (a copy only when there is padding)."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    n, c, h, w = x.shape
    fmt = torch.channels_last if suggests_channels_last(x) else torch.contiguous_format
    xp = torch.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype, device=x.device).contiguous(memory_format=fmt)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    return xp


def slow_path_conv2d(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> Tensor:
    """F.conv2d's slow CPU path, number for number: (N, C, H, W) -> (N, O, Ho, Wo).

    The columns are copied out of one strided view of the padded input (what F.unfold
    returns, at a third of its cost); only the gemm's layout decides the rounding.
    """
    n = x.shape[0]
    out_ch, in_ch, kh, kw = weight.shape
    xp = _padded(x, padding)
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    s_n, s_c, s_h, s_w = xp.stride()
    taps = (s_h * dilation[0], s_w * dilation[1])
    pixels = (s_h * stride[0], s_w * stride[1])
    if suggests_channels_last(x) or suggests_channels_last(weight):
        # columns (N·L, kh·kw·C) times the transposed (O, kh·kw·C) weight: output rows are pixels (NHWC);
        # contiguous columns (a transposed view, as a 1x1 kernel could give, would be summed another way)
        view = xp.as_strided((n, ho, wo, kh, kw, in_ch), (s_n, *pixels, *taps, s_c), xp.storage_offset())
        cl_cols = view.contiguous().view(n * ho * wo, -1)
        w_t = weight.permute(0, 2, 3, 1).reshape(out_ch, -1).t()
        y = torch.addmm(bias, cl_cols, w_t) if bias is not None else cl_cols.mm(w_t)
        return y.view(n, ho, wo, out_ch).permute(0, 3, 1, 2)
    view = xp.as_strided((n, in_ch, kh, kw, ho, wo), (s_n, s_c, *taps, *pixels), xp.storage_offset())
    cols = view.contiguous().view(n, in_ch * kh * kw, ho * wo)  # F.unfold(x, ...)
    # One 2-D product per image, as ATen does: torch.bmm sums small batches with a loop of its own.
    w2 = weight.reshape(out_ch, -1)
    y = x.new_empty(n, out_ch, ho * wo)
    for i in range(n):
        if bias is None:
            torch.mm(w2, cols[i], out=y[i])
        else:
            torch.addmm(bias[:, None], w2, cols[i], out=y[i])
    return y.view(n, out_ch, ho, wo)
