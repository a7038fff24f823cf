"""The denoising networks, built from nnkit layers: the course network and a small U-Net.

Both are fully convolutional. Their two stride-2 convolutions need sides that are multiples
of 4; ``PadToMultiple`` wraps each network so
that any H x W works: it pads the input on the bottom and right by reflection up to the next
multiple and crops the output back, with the backward pass written by hand like every layer.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.init import initialise
from nnkit.layers import (
    Conv2d,
    LeakyReLU,
    NearestUpsampling,
    ReLU,
    Residual,
    Sequential,
    Sigmoid,
    SkipConcat,
    TransposeConv2d,
)

KERNEL = 3
MULTIPLE = 4  # both networks halve the image twice


def reflect_index(size: int, padded: int, device: torch.device) -> Tensor:
    """Source index of each of ``padded`` positions: 0..size-1, then mirrored (no edge repeat)."""
    idx = torch.arange(padded, device=device)
    if size == 1:
        return torch.zeros_like(idx)
    period = 2 * (size - 1)
    idx = idx % period
    return torch.where(idx < size, idx, period - idx)


class PadToMultiple(Module):
    """Run ``inner`` on the input reflect-padded (bottom, right) to a multiple of ``multiple``; crop back."""

    def __init__(self, inner: Module, multiple: int = MULTIPLE) -> None:
        super().__init__()
        if multiple < 1:
            raise ValueError(f"PadToMultiple: multiple must be at least 1, got {multiple}")
        self.inner = inner
        self.multiple = multiple
        self._index: tuple[Tensor, Tensor, int, int] | None = None

    def _padded(self, size: int) -> int:
        return -(-size // self.multiple) * self.multiple

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            from nnkit import ShapeError

            raise ShapeError(f"PadToMultiple: expected input (N, C, H, W), got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        hp, wp = self._padded(h), self._padded(w)
        if (hp, wp) == (h, w):
            self._index = None
            return self.inner.forward(x)
        rows = reflect_index(h, hp, x.device)
        cols = reflect_index(w, wp, x.device)
        self._index = (rows, cols, h, w)
        y = self.inner.forward(x.index_select(2, rows).index_select(3, cols))
        return y[:, :, :h, :w]

    def backward(self, grad_output: Tensor) -> Tensor:
        if self._index is None:
            return self.inner.backward(grad_output)
        rows, cols, h, w = self._index
        n, c = grad_output.shape[:2]
        g = grad_output.new_zeros(n, c, rows.numel(), cols.numel())
        g[:, :, :h, :w] = grad_output
        g = self.inner.backward(g)
        g_cols = g.new_zeros(*g.shape[:3], w).index_add_(3, cols, g)
        return g.new_zeros(*g.shape[:2], h, w).index_add_(2, rows, g_cols)

    def extra_repr(self) -> str:
        return f"multiple={self.multiple}, mode=reflect"


def report_net(width: int = 32) -> Module:
    """The course network: two stride-2 convolutions, two upsample+conv layers, a sigmoid."""
    k, p = KERNEL, KERNEL // 2
    body = Sequential(
        Conv2d(3, width, k, stride=2, padding=p),
        ReLU(),
        Conv2d(width, width, k, stride=2, padding=p),
        ReLU(),
        TransposeConv2d(width, width, k, scale_factor=2, padding=p),
        ReLU(),
        TransposeConv2d(width, 3, k, scale_factor=2, padding=p),
        Sigmoid(),
    )
    return PadToMultiple(body, MULTIPLE)


def report_net_as_written(width: int = 32) -> Module:
    """The course network as the report writes it: each transpose convolution a NearestUpsampling + Conv2d.

    The same maths as ``report_net`` and the same speed: Sequential runs each pair as one
    sub-pixel convolution (nnkit.layers.fused). Its state_dict keys follow this layout (one more
    index per upsampling), so it is a benchmark variant, not one of the ARCHITECTURES of a run.
    """
    k, p = KERNEL, KERNEL // 2
    body = Sequential(
        Conv2d(3, width, k, stride=2, padding=p),
        ReLU(),
        Conv2d(width, width, k, stride=2, padding=p),
        ReLU(),
        NearestUpsampling(2),
        Conv2d(width, width, k, padding=p),
        ReLU(),
        NearestUpsampling(2),
        Conv2d(width, 3, k, padding=p),
        Sigmoid(),
    )
    return PadToMultiple(body, MULTIPLE)


def _conv(cin: int, cout: int, stride: int = 1) -> list[Module]:
    return [Conv2d(cin, cout, KERNEL, stride=stride, padding=KERNEL // 2), LeakyReLU(0.1)]


def _up(cin: int, cout: int) -> list[Module]:
    return [TransposeConv2d(cin, cout, KERNEL, scale_factor=2, padding=KERNEL // 2), LeakyReLU(0.1)]


def unet(width: int = 32) -> Module:
    """A small residual U-Net: width, 2*width, 4*width channels, skips by concatenation.

    y = x + f(x): the network predicts the correction to the noisy input (linear output).
    """
    w1, w2, w3 = width, 2 * width, 4 * width
    bottom = Sequential(*_conv(w2, w3, stride=2), *_conv(w3, w3), *_up(w3, w2))  # H/2 -> H/4 -> H/2
    middle = Sequential(*_conv(w1, w2, stride=2), *_conv(w2, w2), SkipConcat(bottom), *_conv(2 * w2, w2), *_up(w2, w1))
    body = Sequential(
        *_conv(3, w1),
        *_conv(w1, w1),
        SkipConcat(middle),  # w1 + w1 channels at full resolution
        *_conv(2 * w1, w1),
        Conv2d(w1, 3, 1),
    )
    return PadToMultiple(Residual(body), MULTIPLE)


# the networks by name: the names are config.ARCHS (tests/denoise/test_config.py ties the two)
ARCHITECTURES = {"report": report_net, "unet": unet}


def build_architecture(arch: str, width: int) -> Module:
    """The network ``arch`` of ``width`` with the layers' own default weights (not initialised)."""
    try:
        factory = ARCHITECTURES[arch]
    except KeyError:
        raise ValueError(f"arch: unknown architecture {arch!r} (known: {', '.join(ARCHITECTURES)})") from None
    return factory(width)


def torch_dtype(name: str) -> torch.dtype:
    """torch dtype of a RunConfig.dtype name."""
    return {"float32": torch.float32, "float64": torch.float64}[name]


def build_model(config: RunConfig) -> Module:
    """The network of ``config``, initialised with ``config.init`` from ``config.seed``, in ``config.dtype`` on CPU.

    The U-Net's output layer starts at zero after a random initialisation, so the residual
    network starts as the identity (the noisy input) and improves from there: measured on the
    built-in data, 26.5 dB after 60 steps against 21.6 dB with the output layer left random
    (Fixup/ReZero's idea). Constant initialisations are left as they are (they are experiments).
    """
    model = build_architecture(config.arch, config.width)
    model.to(dtype=torch_dtype(config.dtype))
    generator = torch.Generator().manual_seed(config.seed)
    initialise(model, config.init, generator)
    if config.arch == "unet" and not config.init.startswith("constant"):
        for _, p in list(model.named_parameters())[-2:]:
            p.data.zero_()
    return model
