"""The σ estimator before issue 21 (kept for comparison: ``scripts/sigma_error.py``, old vs new).

Donoho's MAD of the diagonal Haar detail of every overlapping 2×2 block, with a clipping-aware
second pass (blocks whose mean is within 2σ of black or white left out). It reads fine texture
as noise (a clean photo of spines: σ̂ 10.4). ``estimate_sigma`` in ``sigma_estimate`` replaces it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from nnkit.denoise.sigma_estimate import MAD_TO_SIGMA, MIN_BLOCKS, STRIP_PIXELS, check_image

_CLIP_MARGIN = 2.0  # blocks whose mean is within this many σ of 0 or 1 are left out of the second pass
_DETAILS = 511  # |a - b - c + d| of uint8 values: 0..510
_SUMS = 1021  # a + b + c + d of uint8 values: 0..1020


def mad_sigma(image: np.ndarray | torch.Tensor, strip_rows: int | None = None) -> float:
    """The old estimate of ``image`` (uint8 H×W×C, or float C×H×W in [0, 1]), 0-255 units."""
    image = check_image(image)
    width = image.shape[-1] if isinstance(image, torch.Tensor) else image.shape[1]
    rows = strip_rows if strip_rows is not None else max(1, STRIP_PIXELS // width)
    if isinstance(image, torch.Tensor):
        return _float_sigma(image.detach().to("cpu", torch.float64), rows)
    return _uint8_sigma(image, rows)


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
