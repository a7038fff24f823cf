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

Memory: the blocks are read in strips of rows. For a uint8 photo each block is two small
integers, its detail (a - b - c + d, |…| ≤ 510) and its sum (a + b + c + d ≤ 1020), so one
table of counts over (sum, |detail|) gives both medians exactly, in a few MB whatever the
photo's size. A float tensor keeps one float64 value per block (its caller already holds the
image in float).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # 1 / Φ⁻¹(3/4)
MIN_BLOCKS = 256  # fewer usable blocks than this: keep the first pass's estimate
_CLIP_MARGIN = 2.0  # blocks whose mean is within this many σ of 0 or 1 are left out of the second pass
STRIP_PIXELS = 256 * 6000  # blocks read at a time (256 rows of a 6000-wide photo): ~40 MB of scratch
_DETAILS = 511  # |a - b - c + d| of uint8 values: 0..510
_SUMS = 1021  # a + b + c + d of uint8 values: 0..1020


class ImageTooSmall(ValueError):
    """A photo with fewer than 2 rows or columns: there is no 2×2 block to measure noise on."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            f"the photo is {width} × {height} pixels (width × height); estimating its noise needs at least 2 × 2"
        )
        self.width, self.height = width, height


def _check(image: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """A uint8 (H, W, C) array or float (C, H, W) tensor of at least 2×2 pixels, else ValueError."""
    if isinstance(image, torch.Tensor):
        if image.dim() != 3 or not image.is_floating_point():
            raise ValueError(f"expected a float (C, H, W) tensor, got {image.dtype} {tuple(image.shape)}")
        height, width = image.shape[-2:]
    else:
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3:
            raise ValueError(f"expected a uint8 (H, W, C) image, got {image.dtype} {image.shape}")
        height, width = image.shape[:2]
    if min(height, width) < 2:
        raise ImageTooSmall(int(width), int(height))
    return image


def estimate_sigma(image: np.ndarray | torch.Tensor, strip_rows: int | None = None) -> float:
    """The noise σ of ``image`` (uint8 H×W×C, or float C×H×W in [0, 1]) in 0-255 units.

    ``strip_rows`` block rows are read at a time (default: STRIP_PIXELS blocks' worth; memory only:
    the result does not depend on it).
    """
    image = _check(image)
    if strip_rows is None:
        strip_rows = max(1, STRIP_PIXELS // (image.shape[-1] if isinstance(image, torch.Tensor) else image.shape[1]))
    if isinstance(strip_rows, bool) or not isinstance(strip_rows, int) or strip_rows < 1:
        raise ValueError(f"strip_rows must be a positive integer, got {strip_rows!r}")
    if isinstance(image, torch.Tensor):
        return _float_sigma(image.detach().to("cpu", torch.float64), strip_rows)
    return _uint8_sigma(image, strip_rows)


# --- uint8 photos: exact medians from a table of counts ---------------------------------------


def _block_counts(image: np.ndarray, strip_rows: int) -> torch.Tensor:
    """Counts (int64, _SUMS × _DETAILS) of the 2×2 blocks of every channel by (a+b+c+d, |a-b-c+d|)."""
    counts = torch.zeros(_SUMS * _DETAILS, dtype=torch.int64)
    for top in range(0, image.shape[0] - 1, strip_rows):
        rows = torch.from_numpy(np.ascontiguousarray(image[top : top + strip_rows + 1])).to(torch.int16)
        a, b = rows[:-1, :-1], rows[:-1, 1:]
        c, d = rows[1:, :-1], rows[1:, 1:]
        key = ((a + b) + (c + d)).to(torch.int32).mul_(_DETAILS).add_(((a - b) - (c - d)).abs_())
        counts += torch.bincount(key.flatten(), minlength=_SUMS * _DETAILS)
    return counts.view(_SUMS, _DETAILS)


def _median_detail(counts: torch.Tensor) -> float:
    """The lower median (as torch.median) of |detail| / 2 in [0, 1] units, from counts over |a - b - c + d|."""
    total = int(counts.sum())
    if total == 0:
        return 0.0
    rank = (total - 1) // 2  # 0-based rank of the lower median
    index = int(torch.searchsorted(counts.cumsum(0), torch.tensor(rank), right=True))
    return index / 2.0 / 255.0


def _uint8_sigma(image: np.ndarray, strip_rows: int) -> float:
    counts = _block_counts(image, strip_rows)
    first = _median_detail(counts.sum(0)) * MAD_TO_SIGMA
    mean = torch.arange(_SUMS, dtype=torch.float64) / (4.0 * 255.0)
    margin = _CLIP_MARGIN * first
    inside = counts[(mean > margin) & (mean < 1.0 - margin)].sum(0)
    if int(inside.sum()) < MIN_BLOCKS:
        return first * 255.0
    return _median_detail(inside) * MAD_TO_SIGMA * 255.0


# --- float tensors: the same in float64, one value per block kept ---------------------------


def _strips(x: torch.Tensor, strip_rows: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(detail, mean) of the 2×2 blocks, ``strip_rows`` block rows at a time."""
    for top in range(0, x.shape[1] - 1, strip_rows):
        rows = x[:, top : top + strip_rows + 1]
        a, b = rows[:, :-1, :-1], rows[:, :-1, 1:]
        c, d = rows[:, 1:, :-1], rows[:, 1:, 1:]
        yield ((a - b) - (c - d)) / 2.0, (a + b + c + d) / 4.0


def _float_sigma(x: torch.Tensor, strip_rows: int) -> float:
    kept = torch.empty(x.shape[0] * (x.shape[1] - 1) * (x.shape[2] - 1), dtype=torch.float64)
    filled = 0
    for detail, _ in _strips(x, strip_rows):
        kept[filled : filled + detail.numel()] = detail.abs().flatten()
        filled += detail.numel()
    first = float(kept.median()) * MAD_TO_SIGMA
    margin = _CLIP_MARGIN * first
    filled = 0
    for detail, mean in _strips(x, strip_rows):
        values = detail[(mean > margin) & (mean < 1.0 - margin)].abs()
        kept[filled : filled + values.numel()] = values
        filled += values.numel()
    if filled < MIN_BLOCKS:
        return first * 255.0
    return float(kept[:filled].median()) * MAD_TO_SIGMA * 255.0
