"""Estimate the Gaussian noise level σ of a photo (0-255 units) without a clean reference.

Donoho's robust estimator on the finest wavelet scale: the diagonal Haar detail of each
2×2 block, (a - b - c + d) / 2, is N(0, σ²) for white Gaussian noise on a smooth image,
and edges and texture only add a minority of large values, so σ ≈ median(|HH|) / 0.6745
(the median absolute deviation of a normal variable is 0.6745 σ). Every 2×2 block of every
channel is used (overlapping blocks: four times as many samples as the plain transform).

Clipping: a photo stores values in [0, 255]; noise near black or white is cut off, which
shrinks the detail there and biases σ down. Blocks whose mean lies within two σ of either
end are left out, with σ from a first pass over all blocks, then σ is estimated again on
what is left (when too few blocks are left, for a very dark or bright photo, the first
pass is kept).
"""

from __future__ import annotations

import numpy as np
import torch

MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # 1 / Φ⁻¹(3/4)
MIN_BLOCKS = 256  # fewer usable blocks than this: keep the first pass's estimate
_CLIP_MARGIN = 2.0  # blocks whose mean is within this many σ of 0 or 1 are left out of the second pass


def _as_float_image(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (H, W, 3) array or float (3, H, W) tensor in [0, 1] -> float64 (C, H, W) in [0, 1]."""
    if isinstance(image, torch.Tensor):
        if image.dim() != 3 or not image.is_floating_point():
            raise ValueError(
                f"estimate_sigma: expected a float (C, H, W) tensor, got {image.dtype} {tuple(image.shape)}"
            )
        x = image.detach().to("cpu", torch.float64)
    else:
        array = np.asarray(image)
        if array.dtype != np.uint8 or array.ndim != 3:
            raise ValueError(f"estimate_sigma: expected a uint8 (H, W, C) image, got {array.dtype} {array.shape}")
        x = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).to(torch.float64).div(255.0)
    if min(x.shape[-2:]) < 2:
        raise ValueError(f"estimate_sigma: the image must be at least 2×2 pixels, got {tuple(x.shape[-2:])}")
    return x


def _mad_sigma(values: torch.Tensor) -> float:
    return float(values.abs().median()) * MAD_TO_SIGMA if values.numel() else 0.0


def estimate_sigma(image: np.ndarray | torch.Tensor) -> float:
    """The noise σ of ``image`` (uint8 H×W×3, or float C×H×W in [0, 1]) in 0-255 units."""
    x = _as_float_image(image)
    a, b = x[:, :-1, :-1], x[:, :-1, 1:]
    c, d = x[:, 1:, :-1], x[:, 1:, 1:]
    detail = ((a - b) - (c - d)) / 2.0
    first = _mad_sigma(detail)
    mean = (a + b + c + d) / 4.0
    margin = _CLIP_MARGIN * first
    inside = (mean > margin) & (mean < 1.0 - margin)
    if int(inside.sum()) < MIN_BLOCKS:
        return first * 255.0
    return _mad_sigma(detail[inside]) * 255.0
