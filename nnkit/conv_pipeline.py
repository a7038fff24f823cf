"""The shapes a Conv2d's tensors take through unfold -> matrix product -> fold, as in the course's derivation.

``unfold_pipeline(layer, input_shape)`` lists each stage of UnfoldConv2d's forward and backward
(nnkit.layers.textbook) for one input shape, so a learner can relate a layer of a running model
to the matrices of the derivation. The fast Conv2d computes the same products another way.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnkit.layers import Conv2d, TransposeConv2d


@dataclass(frozen=True)
class Stage:
    """One tensor of the pipeline: what it is, its shape, and the formula that makes it."""

    name: str
    shape: tuple[int, ...]
    formula: str


def unfold_pipeline(layer: Conv2d, input_shape: tuple[int, ...]) -> list[Stage]:
    """The forward and backward stages of ``layer`` (Conv2d or TransposeConv2d) for an input of ``input_shape``."""
    if len(input_shape) != 4:
        raise ValueError(f"unfold_pipeline: expected an input shape (N, C, H, W), got {input_shape}")
    n, c, h, w = input_shape
    kh, kw = layer.kernel_size
    hc, wc = layer._conv_input_size(h, w)
    ho, wo = layer._conv_output_size(hc, wc)
    k, positions, out = c * kh * kw, ho * wo, layer.out_channels
    stages = [Stage("x", (n, c, h, w), "the layer's input")]
    if isinstance(layer, TransposeConv2d):
        s = layer.scale_factor
        stages.append(Stage("up", (n, c, hc, wc), f"nearest upsampling by {s}: each pixel an {s}x{s} block"))
    source = "up" if isinstance(layer, TransposeConv2d) else "x"
    stages += [
        Stage("cols", (n, k, positions), f"unfold({source}): one column of C*kh*kw = {k} values per output position"),
        Stage("W", (out, k), f"the weight {tuple(layer.weight.shape)} viewed as a matrix"),
        Stage("W @ cols + b", (n, out, positions), "one matrix product per image (the convolution)"),
        Stage("y", (n, out, ho, wo), f"reshaped to the output image, L = {ho}*{wo} = {positions} positions"),
        Stage("G", (n, out, positions), "backward: dL/dy viewed as a matrix"),
        Stage("dL/dW", (out, k), "sum over images of G @ cols^T, reshaped to the weight"),
        Stage("dL/dcols", (n, k, positions), "W^T @ G"),
        Stage(f"dL/d{source}", (n, c, hc, wc), "fold(dL/dcols): each column entry added back onto its pixel"),
    ]
    if isinstance(layer, TransposeConv2d):
        stages.append(Stage("dL/dx", (n, c, h, w), "the sum of each upsampled block"))
    return stages
