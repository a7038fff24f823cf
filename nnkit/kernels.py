"""Fast hand-written convolution kernels on plain tensor ops (the hot paths of Conv2d and TransposeConv2d).

Everything runs channels-last: an (N, C, H, W) tensor is read as its (N, H, W, C) view,
im2col is one ``as_strided`` view of the zero-padded channels-last input copied into a
(N·Ho·Wo, kh·kw·C) matrix, and the convolution is one matrix product with the weight
over the whole batch (bias fused through ``addmm``). Outputs are returned as (N, C, H, W)
views of channels-last memory, so the next layer reads them without a copy.

Backward: the weight gradient is one matrix product colsᵀ·G. For stride 1 the input
gradient is the correlation of the padded output gradient with the flipped kernel (one
im2col of G and one matrix product, dense result); otherwise it is G·W followed by an
exact col2im written as kh·kw shifted, strided slice additions into the (unpadded) input
gradient, so any stride, dilation or padding, including sizes whose last rows no window
reaches, gives the exact gradient.

Training forwards keep their scratch tensors (padded input, im2col matrix, ...) in a
per-layer workspace reused from step to step: fresh multi-megabyte allocations re-fault
their pages every step, which on some machines costs as much as the arithmetic.

Nearest upsampling by s followed by a k×k convolution is computed as one *sub-pixel*
convolution on the low-resolution input: output pixel (s·q + r) only ever sees a few
input rows, so each of the s×s output phases is a small convolution of the input with a
kernel made by summing taps of the original kernel. The phases share one im2col of the
low-resolution input and one matrix product, with the same numbers as upsample + conv
(up to rounding) and, for k = 3 and s = 2, 2.25× fewer multiply-adds per output pixel.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import torch
from torch import Tensor

from nnkit.conv_rounding import rounds_as_torch, slow_path_conv2d

Pads = tuple[int, int, int, int]  # top, bottom, left, right
Workspace = dict[str, Tensor]  # a layer's reusable scratch tensors, by role


class SharedScratch(threading.local):
    """Scratch memory shared by every layer of one thread (training temporaries and eval-mode forwards).

    ``get``: one flat buffer per role, grown to the largest request; each request gets a view
    of its start, so its contents are arbitrary (callers treat it as fresh).
    ``bordered``: one buffer per role *and* shape (the zero-padded im2col inputs of training steps), whose
    contents persist, so a zero border written once stays zero: only the interior is ever
    rewritten. The most recent ``MAX_BORDERED`` shapes are kept.
    ``release()`` frees everything.
    """

    MAX_BORDERED = 32

    def __init__(self) -> None:
        self.buffers: dict[tuple[str, torch.device, torch.dtype], Tensor] = {}
        self.borders: dict[tuple[object, ...], Tensor] = {}  # the bordered buffers, oldest first

    def get(self, key: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
        numel = math.prod(shape)
        slot = (key, like.device, like.dtype)
        buf = self.buffers.get(slot)
        if buf is None or buf.numel() < numel:
            buf = like.new_empty(numel)
            self.buffers[slot] = buf
        return buf[:numel].view(shape)

    def bordered(self, key: str, shape: tuple[int, ...], pads: Pads, like: Tensor) -> tuple[Tensor, bool]:
        """The persistent buffer of this role, shape and padding, and whether it was just made (border unset)."""
        slot = (key, shape, pads, like.device, like.dtype)
        buf = self.borders.get(slot)
        if buf is not None:
            return buf, False
        if len(self.borders) >= self.MAX_BORDERED:
            del self.borders[next(iter(self.borders))]
        buf = self.borders[slot] = like.new_empty(shape)
        return buf, True

    def tensors(self) -> list[Tensor]:
        """Every scratch tensor held now (a CUDA graph that writes into them keeps them alive)."""
        return [*self.buffers.values(), *self.borders.values()]

    def release(self) -> None:
        self.buffers.clear()
        self.borders.clear()


SHARED = SharedScratch()


def release_scratch() -> None:
    """Free this thread's shared eval-mode scratch memory (Conv2d's ``_moved`` hook calls it)."""
    SHARED.release()


def _temp(ws: Workspace | SharedScratch | None) -> SharedScratch | None:
    """Where a temporary that dies within one call lives: the thread's shared scratch (None: fresh memory)."""
    return SHARED if ws is not None else None


def _scratch(
    ws: Workspace | SharedScratch | None, key: str, shape: tuple[int, ...], like: Tensor
) -> tuple[Tensor, bool]:
    """A tensor of ``shape`` for temporary use: the layer's cached one when it fits, else a new one (True).

    Reusing scratch memory between steps avoids re-faulting fresh pages of the large
    im2col matrices, which costs as much as the copies themselves on some machines.
    """
    if isinstance(ws, SharedScratch):
        return ws.get(key, shape, like), True
    if ws is not None:
        buf = ws.get(key)
        if buf is not None and buf.shape == shape and buf.dtype == like.dtype and buf.device == like.device:
            return buf, False
    buf = like.new_empty(shape)
    if ws is not None:
        ws[key] = buf
    return buf, True


def _ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def im2col(
    x: Tensor,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pads: Pads,
    out_size: tuple[int, int] | None = None,
    ws: Workspace | SharedScratch | None = None,
    role: str = "",
    keep: bool = True,
    steady: bool = False,
) -> tuple[Tensor, int, int]:
    """Channels-last x (N, H, W, C) -> cols (N·Ho·Wo, kh·kw·C) ordered (kh, kw, C), and Ho, Wo.

    With a workspace ``ws`` the padded input and cols live in reused scratch tensors: cols in
    ``ws`` itself when ``keep`` (overwritten by the next call with the same ``ws``), the padded
    input (and cols unless ``keep``) in the thread's shared scratch, valid until the next call.
    ``steady`` (training steps, whose shapes repeat): the padded input is kept per shape, so its
    zero border is written once; otherwise (eval forwards of any size) one buffer serves all
    shapes and the border is zeroed on each call.
    """
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pb, pl, pr = pads
    hp, wp = h + pt + pb, w + pl + pr
    if out_size is None:
        ho, wo = (hp - dh * (kh - 1) - 1) // sh + 1, (wp - dw * (kw - 1) - 1) // sw + 1
    else:
        ho, wo = out_size
    if pt or pb or pl or pr:
        shape = (n, hp, wp, c)
        if ws is None:
            xp, fresh = x.new_empty(shape), True
        elif steady:
            xp, fresh = SHARED.bordered(role + "padded", shape, pads, x)
        else:
            xp, fresh = SHARED.get(role + "padded", shape, x), True
        if fresh:
            _zero_border(xp, pads)  # the interior is overwritten below, the border stays zero
        xp[:, pt : pt + h, pl : pl + w].copy_(x)
    else:
        xp = x.contiguous()
    s_n, s_h, s_w, s_c = xp.stride()
    view = xp.as_strided((n, ho, wo, kh, kw, c), (s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    if ws is None:
        return view.reshape(n * ho * wo, kh * kw * c), ho, wo
    cols, _ = _scratch(ws if keep else _temp(ws), role + "cols", (n, ho, wo, kh, kw, c), x)
    cols.copy_(view)
    return cols.view(n * ho * wo, kh * kw * c), ho, wo


def _zero_border(xp: Tensor, pads: Pads) -> None:
    pt, pb, pl, pr = pads
    hp, wp = xp.shape[1], xp.shape[2]
    if pt:
        xp[:, :pt].zero_()
    if pb:
        xp[:, hp - pb :].zero_()
    if pl:
        xp[:, pt : hp - pb, :pl].zero_()
    if pr:
        xp[:, pt : hp - pb, wp - pr :].zero_()


def _tap_range(tap: int, size_in: int, size_out: int, stride: int, dilation: int, pad: int) -> tuple[int, int, int]:
    """Outputs o in [lo, hi) whose tap lands inside the unpadded input, and the input index of o = lo."""
    offset = tap * dilation - pad  # input index of output 0
    lo = max(0, _ceil_div(-offset, stride))
    hi = min(size_out, (size_in - 1 - offset) // stride + 1)
    return lo, hi, lo * stride + offset


def col2im(
    dcols: Tensor,
    in_shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pads: Pads,
    out_size: tuple[int, int],
) -> Tensor:
    """Adjoint of im2col: dcols (N·Ho·Wo, kh·kw·C) -> channels-last dx (N, H, W, C), exact."""
    n, h, w, c = in_shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    ho, wo = out_size
    d6 = dcols.view(n, ho, wo, kh, kw, c)
    dx = dcols.new_zeros(n, h, w, c)
    for i in range(kh):
        o_lo, o_hi, r0 = _tap_range(i, h, ho, sh, dh, pads[0])
        if o_hi <= o_lo:
            continue
        rows = slice(r0, r0 + (o_hi - o_lo - 1) * sh + 1, sh)
        for j in range(kw):
            p_lo, p_hi, c0 = _tap_range(j, w, wo, sw, dw, pads[2])
            if p_hi <= p_lo:
                continue
            cols = slice(c0, c0 + (p_hi - p_lo - 1) * sw + 1, sw)
            dx[:, rows, cols].add_(d6[:, o_lo:o_hi, p_lo:p_hi, i, j])
    return dx


def _column_sums(m: Tensor, ws: Workspace | None = None) -> Tensor:
    """Sum over the rows of a (M, K) matrix as one matrix-vector product (faster than sum(0) on CPU)."""
    ones, fresh = _scratch(ws, "ones", (m.shape[0],), m)
    if fresh:
        ones.fill_(1.0)
    return m.t().mv(ones)


def _nhwc(t: Tensor) -> Tensor:
    return t.permute(0, 2, 3, 1)


def _nchw(t: Tensor) -> Tensor:
    return t.permute(0, 3, 1, 2)


# -- Conv2d --------------------------------------------------------------------------------------
@dataclass
class ConvSaved:
    """What conv2d_backward needs from the forward pass."""

    cols: Tensor | None
    in_shape: tuple[int, int, int, int]  # channels-last (N, H, W, C)
    out_size: tuple[int, int]
    pads: Pads


def conv2d_forward(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    save: bool = True,
    ws: Workspace | None = None,
) -> tuple[Tensor, ConvSaved]:
    """x (N, C, H, W) -> (N, O, Ho, Wo) channels-last view; the im2col matrix kept for backward if ``save``.

    ``ws``: the layer's scratch tensors, reused between training steps; with ``save=False``
    (eval mode) the thread's shared scratch is used instead, so inference holds one im2col
    matrix for all layers, not one per layer. One image on the CPU small enough for F.conv2d's
    own im2col + gemm path (nnkit.conv_rounding) is computed as that path does, in its layout.
    """
    out_ch, _, kh, kw = weight.shape
    xh = _nhwc(x)
    n, h, w, c = xh.shape
    pads = (padding[0], padding[0], padding[1], padding[1])
    if rounds_as_torch(x, weight, stride, dilation):
        # Where F.conv2d is im2col + gemm itself (one small image, float64), round as it does:
        # allclose(conv.forward(x), F.conv2d(...)) with default tolerances then holds (nnkit.conv_rounding).
        y = slow_path_conv2d(x, weight, bias, stride, padding, dilation)
        cols = im2col(xh, (kh, kw), stride, dilation, pads, ws=ws, steady=True)[0] if save else None
        return y, ConvSaved(cols, (n, h, w, c), (y.shape[2], y.shape[3]), pads)
    cols, ho, wo = im2col(xh, (kh, kw), stride, dilation, pads, ws=ws if save else SHARED, steady=save)
    wmat = weight.permute(2, 3, 1, 0).reshape(-1, out_ch)
    y = torch.addmm(bias, cols, wmat) if bias is not None else cols.mm(wmat)
    saved = ConvSaved(cols if save else None, (n, h, w, c), (ho, wo), pads)
    return _nchw(y.view(n, ho, wo, out_ch)), saved


def conv2d_backward(
    grad_output: Tensor,
    saved: ConvSaved,
    weight: Tensor,
    weight_grad: Tensor,
    bias_grad: Tensor | None,
    stride: tuple[int, int],
    dilation: tuple[int, int],
    input_grad: bool = True,
    ws: Workspace | None = None,
) -> Tensor | None:
    """Add dL/dW (and dL/db) into the grads; return dL/dx (N, C, H, W) channels-last, or None."""
    if saved.cols is None:
        raise RuntimeError("conv2d_backward: the forward pass did not keep its im2col matrix (save=False)")
    out_ch, _, kh, kw = weight.shape
    g = _nhwc(grad_output).reshape(-1, out_ch)
    dw = saved.cols.t().mm(g)  # (kh·kw·C, O)
    weight_grad.add_(dw.view(kh, kw, -1, out_ch).permute(3, 2, 0, 1))
    if bias_grad is not None:
        bias_grad.add_(_column_sums(g, ws))
    if not input_grad:
        return None
    if stride == (1, 1) and _full_pads(saved.pads, (kh, kw), dilation) is not None:
        return _input_grad_by_correlation(grad_output, weight, dilation, saved, ws)
    dcols, _ = _scratch(_temp(ws), "dcols", tuple(saved.cols.shape), g)
    torch.mm(g, weight.permute(0, 2, 3, 1).reshape(out_ch, -1), out=dcols)  # (N·Ho·Wo, kh·kw·C)
    dx = col2im(dcols, saved.in_shape, (kh, kw), stride, dilation, saved.pads, saved.out_size)
    return _nchw(dx)


def _full_pads(pads: Pads, kernel: tuple[int, int], dilation: tuple[int, int]) -> Pads | None:
    """Padding of the output gradient that makes a stride-1 input gradient a plain correlation, if >= 0."""
    reach_h, reach_w = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)
    full = (reach_h - pads[0], reach_h - pads[1], reach_w - pads[2], reach_w - pads[3])
    return full if min(full) >= 0 else None


def _input_grad_by_correlation(
    grad_output: Tensor, weight: Tensor, dilation: tuple[int, int], saved: ConvSaved, ws: Workspace | None
) -> Tensor:
    """Stride 1: dL/dx is the correlation of the padded output gradient with the flipped kernel.

    One im2col of the gradient and one matrix product give the dense input gradient
    directly, with no scatter-add (the col2im) afterwards.
    """
    out_ch, in_ch, kh, kw = weight.shape
    pads = _full_pads(saved.pads, (kh, kw), dilation)
    assert pads is not None
    gcols, _, _ = im2col(
        _nhwc(grad_output),
        (kh, kw),
        (1, 1),
        dilation,
        pads,
        saved.in_shape[1:3],
        ws=_temp(ws),
        role="grad_",
        keep=False,
        steady=True,
    )
    flipped = weight.flip(2, 3).permute(2, 3, 0, 1).reshape(kh * kw * out_ch, in_ch)
    n, h, w, _ = saved.in_shape
    return _nchw(gcols.mm(flipped).view(n, h, w, in_ch))


# -- nearest upsampling + Conv2d as one sub-pixel convolution ----------------------------------
@dataclass(frozen=True)
class _Phases:
    """One axis of the sub-pixel decomposition of (upsample by s) then (conv k, padding p)."""

    s: int
    window: int  # taps per phase in the low-resolution input (K')
    lo_min: int  # input offset of the first tap of phase 0
    shifts: tuple[int, ...]  # grid offset of each phase
    counts: tuple[int, ...]  # outputs of each phase
    grid: int  # im2col grid size
    pads: tuple[int, int]
    taps: tuple[tuple[int, ...], ...]  # taps[r][i]: which of the window's taps kernel index i feeds


def _phases(size_in: int, k: int, s: int, p: int) -> _Phases:
    size_out = size_in * s + 2 * p - k + 1
    offsets = [[(r + i - p) // s for i in range(k)] for r in range(s)]
    lows = [min(o) for o in offsets]
    lo_min = lows[0]
    window = max(max(o) - lo for o, lo in zip(offsets, lows, strict=True)) + 1
    shifts = tuple(lo - lo_min for lo in lows)
    counts = tuple(max(0, _ceil_div(size_out - r, s)) for r in range(s))
    grid = max(c + sh for c, sh in zip(counts, shifts, strict=True))
    pad_top = -lo_min
    pad_bottom = max(0, grid + lo_min + window - 1 - size_in)
    taps = tuple(tuple(d - lo for d in o) for o, lo in zip(offsets, lows, strict=True))
    return _Phases(s, window, lo_min, shifts, counts, grid, (pad_top, pad_bottom), taps)


_TAP_MATRICES: dict[tuple[object, ...], Tensor] = {}


def _tap_matrix(rows: _Phases, columns: _Phases, like: Tensor) -> Tensor:
    """0/1 matrix ((a, b, ry, rx), (i, j)): kernel tap (i, j) of phase (ry, rx) lands on window tap (a, b).

    Cached per geometry, device and dtype (built once, before any CUDA-graph capture).
    """
    kh, kw = len(rows.taps[0]), len(columns.taps[0])
    key = (rows, columns, like.device, like.dtype)
    m = _TAP_MATRICES.get(key)
    if m is None:
        m = torch.zeros(rows.window, columns.window, rows.s, columns.s, kh, kw, dtype=like.dtype)
        for ry, row_taps in enumerate(rows.taps):
            for rx, col_taps in enumerate(columns.taps):
                for i, a in enumerate(row_taps):
                    for j, b in enumerate(col_taps):
                        m[a, b, ry, rx, i, j] = 1.0
        m = m.reshape(-1, kh * kw).to(like.device)
        _TAP_MATRICES[key] = m
    return m


def _linear_shift(axis: _Phases) -> int | None:
    """The grid shift from one phase to the next, if all phases have equal counts and evenly spaced shifts."""
    if len(set(axis.counts)) != 1:
        return None
    steps = {b - a for a, b in zip(axis.shifts, axis.shifts[1:], strict=False)}
    if len(steps) > 1:
        return None
    return steps.pop() if steps else 0


def _phase_view(z6: Tensor, rows: _Phases, columns: _Phases) -> Tensor | None:
    """z6 (N, grid_h, grid_w, s, s, O) read as (N, Ho/s, s, Wo/s, s, O) in output order, or None.

    Output pixel (s·q + ry, s·p + rx) is z6[:, shift_h[ry] + q, shift_w[rx] + p, ry, rx]: when
    the shifts grow evenly with the phase (always for s = 2) and the phases have equal counts,
    that is one strided view, so the phases are scattered (or gathered) by a single copy.
    """
    dh, dw = _linear_shift(rows), _linear_shift(columns)
    if dh is None or dw is None:
        return None
    n, _, _, s, _, out_ch = z6.shape
    s_n, s_h, s_w, s_ry, s_rx, s_o = z6.stride()
    offset = z6.storage_offset() + rows.shifts[0] * s_h + columns.shifts[0] * s_w
    return z6.as_strided(
        (n, rows.counts[0], s, columns.counts[0], s, out_ch),
        (s_n, s_h, dh * s_h + s_ry, s_w, dw * s_w + s_rx, s_o),
        offset,
    )


@dataclass
class SubPixelSaved:
    """What subpixel_conv_backward needs from the forward pass."""

    cols: Tensor | None
    in_shape: tuple[int, int, int, int]
    rows: _Phases
    columns: _Phases
    out_size: tuple[int, int]


def _effective_weight(weight: Tensor, taps: Tensor, window: tuple[int, int], s: int) -> Tensor:
    """(O, C, kh, kw) -> (K'h·K'w·C, s·s·O): each phase's kernel on the low-resolution input."""
    out_ch, in_ch, kh, kw = weight.shape
    w_eff = taps.mm(weight.reshape(out_ch * in_ch, kh * kw).t())  # (K'h·K'w·s·s, O·C)
    w_eff = w_eff.view(window[0], window[1], s, s, out_ch, in_ch).permute(0, 1, 5, 2, 3, 4)
    return w_eff.reshape(window[0] * window[1] * in_ch, s * s * out_ch)


def _effective_weight_backward(
    dw_eff: Tensor, taps: Tensor, window: tuple[int, int], s: int, kernel: tuple[int, int]
) -> Tensor:
    """Adjoint of _effective_weight: dL/dW_eff (K'h·K'w·C, s·s·O) -> dL/dW (O, C, kh, kw)."""
    in_ch = dw_eff.shape[0] // (window[0] * window[1])
    out_ch = dw_eff.shape[1] // (s * s)
    d = dw_eff.view(window[0], window[1], in_ch, s, s, out_ch).permute(0, 1, 3, 4, 5, 2)
    dw = taps.t().mm(d.reshape(-1, out_ch * in_ch))  # (kh·kw, O·C)
    return dw.t().view(out_ch, in_ch, kernel[0], kernel[1])


_NARROW = 16  # at most this many output columns (s·s·out_channels): use the transposed matrix products


def upsample_conv_forward(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    scale: int,
    padding: tuple[int, int],
    save: bool = True,
    ws: Workspace | None = None,
) -> tuple[Tensor, SubPixelSaved]:
    """Nearest upsampling by ``scale`` then conv (stride 1), as one sub-pixel convolution of x (N, C, H, W)."""
    out_ch, _, kh, kw = weight.shape
    xh = _nhwc(x)
    n, h, w, c = xh.shape
    rows, columns = _phases(h, kh, scale, padding[0]), _phases(w, kw, scale, padding[1])
    taps = _tap_matrix(rows, columns, weight)
    window = (rows.window, columns.window)
    pads = (*rows.pads, *columns.pads)
    scratch: Workspace | SharedScratch | None = ws if save else SHARED
    cols, _, _ = im2col(xh, window, (1, 1), (1, 1), pads, (rows.grid, columns.grid), ws=scratch, steady=save)
    w_eff = _effective_weight(weight, taps, window, scale)
    phases_out = w_eff.shape[1]
    if phases_out <= _NARROW:  # few output columns: the transposed product runs faster (MKL), read z as a view
        zt, _ = _scratch(_temp(scratch), "z", (phases_out, cols.shape[0]), cols)
        if bias is not None:
            torch.addmm(bias.repeat(scale * scale)[:, None], w_eff.t(), cols.t(), out=zt)
        else:
            torch.mm(w_eff.t(), cols.t(), out=zt)
        z = zt.t()
    else:
        z, _ = _scratch(_temp(scratch), "z", (cols.shape[0], phases_out), cols)
        if bias is not None:
            torch.addmm(bias.repeat(scale * scale), cols, w_eff, out=z)
        else:
            torch.mm(cols, w_eff, out=z)
    z6 = z.unflatten(0, (n, rows.grid, columns.grid)).unflatten(1 + 2, (scale, scale, out_ch))
    ho = h * scale + 2 * padding[0] - kh + 1
    wo = w * scale + 2 * padding[1] - kw + 1
    y = z.new_empty(n, ho, wo, out_ch)
    phases = _phase_view(z6, rows, columns)
    if phases is not None:  # every phase at once: one copy
        y.view(n, rows.counts[0], scale, columns.counts[0], scale, out_ch).copy_(phases)
    else:
        for ry in range(scale):
            a, na = rows.shifts[ry], rows.counts[ry]
            for rx in range(scale):
                b, nb = columns.shifts[rx], columns.counts[rx]
                y[:, ry::scale, rx::scale].copy_(z6[:, a : a + na, b : b + nb, ry, rx])
    saved = SubPixelSaved(cols if save else None, (n, h, w, c), rows, columns, (ho, wo))
    return _nchw(y), saved


def upsample_conv_backward(
    grad_output: Tensor,
    saved: SubPixelSaved,
    weight: Tensor,
    weight_grad: Tensor,
    bias_grad: Tensor | None,
    input_grad: bool = True,
    ws: Workspace | None = None,
) -> Tensor | None:
    """Add dL/dW (and dL/db) into the grads; return dL/dx (N, C, H, W) channels-last, or None."""
    if saved.cols is None:
        raise RuntimeError("upsample_conv_backward: the forward pass did not keep its im2col matrix (save=False)")
    out_ch, _, kh, kw = weight.shape
    rows, columns = saved.rows, saved.columns
    s = rows.s
    n = saved.in_shape[0]
    g = _nhwc(grad_output)
    dz, _ = _scratch(_temp(ws), "dz", (n, rows.grid, columns.grid, s, s, out_ch), g)
    dz.zero_()
    phases = _phase_view(dz, rows, columns)
    if phases is not None:  # every phase at once: one copy
        phases.copy_(g.unflatten(1, (rows.counts[0], s)).unflatten(3, (columns.counts[0], s)))
    else:
        for ry in range(s):
            a, na = rows.shifts[ry], rows.counts[ry]
            for rx in range(s):
                b, nb = columns.shifts[rx], columns.counts[rx]
                dz[:, a : a + na, b : b + nb, ry, rx].copy_(g[:, ry::s, rx::s])
    dzf = dz.view(-1, s * s * out_ch)
    taps = _tap_matrix(rows, columns, weight)
    window = (rows.window, columns.window)
    dw_eff = dzf.t().mm(saved.cols).t() if dzf.shape[1] <= _NARROW else saved.cols.t().mm(dzf)
    weight_grad.add_(_effective_weight_backward(dw_eff, taps, window, s, (kh, kw)))
    if bias_grad is not None:
        bias_grad.add_(_column_sums(dzf, ws).view(s * s, out_ch).sum(0))
    if not input_grad:
        return None
    dcols, _ = _scratch(_temp(ws), "dcols", tuple(saved.cols.shape), g)
    torch.mm(dzf, _effective_weight(weight, taps, window, s).t(), out=dcols)
    pads = (*rows.pads, *columns.pads)
    dx = col2im(dcols, saved.in_shape, window, (1, 1), (1, 1), pads, (rows.grid, columns.grid))
    return _nchw(dx)
