"""Estimate the Gaussian noise level σ of a photo (0-255 units) without a clean reference.

Donoho's robust estimator on the finest wavelet scale, on weakly textured blocks only. Each
2×2 block [[a, b], [c, d]] of each channel (the non-overlapping grid) has four orthogonal Haar
coefficients: its sum a+b+c+d, horizontal a-b+c-d, vertical a+b-c-d and diagonal a-b-c+d
detail; for white Gaussian noise they are independent, each N(0, 4σ²). σ ≈ median(|diagonal|) /
2 / 0.6745 (the median absolute deviation of a normal variable is 0.6745 σ).

Texture: fine texture (spines, fur, gravel) has a large diagonal detail too, and a median over
all blocks reads it as noise. So each block position gets a texture energy T that noise barely
affects: the squared horizontal and vertical details of its 3×3 neighbourhood of blocks (all
channels) plus the squared diagonal details of its 8 neighbours, never its own diagonal. For
white noise T is independent of the block's own diagonal detail, so choosing blocks by T cannot
bias their median (no correction needed); on a flat area T / 4σ² is χ² with k = 26·C degrees of
freedom. The estimate iterates σ ← median over the blocks with T below 4σ²·median(χ²_k) (at
least the lowest TEXTURE_FLOOR share of T, so an all-texture photo keeps enough blocks), from σ
over all blocks down to a fixed point: textured blocks drop out, flat ones stay.

Clipping: a photo stores values in [0, 255]; noise near black or white is cut off, which shrinks
the detail there and lowers T too. Blocks (per channel) whose mean lies within two σ of either end
are left out, with σ from a first pass over all blocks.

Medians: 8-bit values make the diagonal detail an integer; its median is interpolated within the
integer's rounding interval, so σ̂ is not quantised in steps of 0.74.

Memory: blocks are read in strips of block rows (with one block row either side for the
neighbourhood) and counted in two tables, (block sum, |diagonal|) and (T on a log scale,
|diagonal|): a few MB whatever the photo's size, and the same counts, so the same result, for
any strip height. A float tensor is read the same way in float64 (× 255).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # 1 / Φ⁻¹(3/4)
MIN_BLOCKS = 256  # fewer usable blocks than this: keep the estimate of the pass before
TEXTURE_FLOOR = 0.01  # the lowest share of T always used (chosen on the training and validation photos)
STRIP_PIXELS = 256 * 6000  # pixels read at a time (256 rows of a 6000-wide photo): ~50 MB of scratch
_CLIP_MARGIN = 2.0  # blocks whose mean is within this many σ of 0 or 255 are left out
_DETAILS = 511  # |a - b - c + d| of 8-bit values: 0..510
_SUMS = 1021  # a + b + c + d of 8-bit values: 0..1020
_BINS_PER_OCTAVE = 16  # T's table: bin j holds 16·log2(T + 0.75) in [j - 7, j - 6)
_T_OFFSET = 0.75  # T is a sum of integer squares for 8-bit photos: 16·log2(T + 0.75) is never an integer
_MAX_ITERATIONS = 64


class ImageTooSmall(ValueError):
    """A photo with fewer than 2 rows or columns: there is no 2×2 block to measure noise on."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(
            f"the photo is {width} × {height} pixels (width × height); estimating its noise needs at least 2 × 2"
        )
        self.width, self.height = width, height


def check_image(image: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
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

    ``strip_rows`` block rows (two pixel rows each) are read at a time (default: STRIP_PIXELS
    pixels' worth; memory only: the result does not depend on it).
    """
    image = check_image(image)
    planar = _planar(image)
    if strip_rows is None:
        strip_rows = max(1, STRIP_PIXELS // (2 * planar.shape[-1]))
    if isinstance(strip_rows, bool) or not isinstance(strip_rows, int) or strip_rows < 1:
        raise ValueError(f"strip_rows must be a positive integer, got {strip_rows!r}")
    sums = _sum_counts(planar, strip_rows)
    first = _sigma_of(sums.sum(0))
    inside = _inside(first)
    start = _sigma_of(sums[inside].sum(0))  # the old estimator's clipping-aware pass, on this grid
    textures = _texture_counts(planar, strip_rows, inside)
    if int(textures.sum()) < MIN_BLOCKS:
        return start if int(sums[inside].sum()) >= MIN_BLOCKS else first
    return weak_texture_sigma(textures, planar.shape[0])


def weak_texture_sigma(textures: torch.Tensor, channels: int) -> float:
    """σ (0-255) from counts over (T bin, |diagonal|): the fixed point of σ ← median over blocks with
    T below 4σ²·median(χ²_k), or the lowest TEXTURE_FLOOR share of T when that holds more."""
    per_bin = textures.sum(1)
    floor_bin = int(torch.searchsorted(per_bin.cumsum(0), torch.tensor(TEXTURE_FLOOR * float(per_bin.sum()))))
    scale = 4.0 * _chi2_median(26 * channels)
    last = textures.shape[0] - 1  # everything: σ over all weakly clipped blocks
    sigma = _sigma_of(textures.sum(0))
    for _ in range(_MAX_ITERATIONS):
        chosen = max(_bin_of(scale * sigma * sigma), floor_bin)
        if chosen >= last:
            chosen = last
        new = _sigma_of(textures[: chosen + 1].sum(0))
        if new == sigma:
            break
        sigma = new
    return sigma


def _chi2_median(k: int) -> float:
    """The median of χ² with k degrees of freedom (Wilson-Hilferty: within 0.01% for k ≥ 26)."""
    return k * (1.0 - 2.0 / (9.0 * k)) ** 3


def _bin_of(t: float) -> int:
    """T's table row for the value ``t`` (as ``_texture_bins``)."""
    return math.floor(_BINS_PER_OCTAVE * math.log2(t + _T_OFFSET)) + 7


def _sigma_of(counts: torch.Tensor) -> float:
    """σ (0-255) from counts over |a - b - c + d| = 0..510: the median of |diagonal| / 2 · MAD_TO_SIGMA.

    The median is interpolated: an integer n stands for the interval [n - ½, n + ½] of the value it was
    rounded from (0 for [0, ½], folded), spread evenly.
    """
    total = float(counts.sum())
    if total == 0:
        return 0.0
    cumulative = counts.double().cumsum(0)
    n = int(torch.searchsorted(cumulative, torch.tensor(total / 2.0, dtype=torch.float64)))
    below = float(cumulative[n - 1]) if n > 0 else 0.0
    low, width = (0.0, 0.5) if n == 0 else (n - 0.5, 1.0)
    median = low + width * (total / 2.0 - below) / float(counts[n])
    return median / 2.0 * MAD_TO_SIGMA


def _inside(sigma: float) -> torch.Tensor:
    """Which block sums (0..1020) lie more than _CLIP_MARGIN·σ from black and white (as a mean of 4)."""
    mean = torch.arange(_SUMS, dtype=torch.float64) / 4.0
    margin = _CLIP_MARGIN * sigma
    return (mean > margin) & (mean < 255.0 - margin)


# --- reading blocks in strips -------------------------------------------------------------------


def _planar(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """A (C, H, W) view: a uint8 photo without a copy, a float tensor on the CPU as it is."""
    if isinstance(image, torch.Tensor):
        return image.detach().to("cpu")
    return torch.from_numpy(image).permute(2, 0, 1)


def _rows(planar: torch.Tensor, top: int, bottom: int) -> torch.Tensor:
    """Block rows top..bottom-1 as (C, 2·rows, 2·cols) values in 0-255 units: int16 (every sum and
    difference of four 8-bit values fits) or float64."""
    rows = planar[:, 2 * top : 2 * bottom, : planar.shape[-1] // 2 * 2]
    if planar.dtype == torch.uint8:  # a contiguous copy: the blocks' strided corners read faster
        return rows.to(torch.int16, memory_format=torch.contiguous_format)
    return rows.to(torch.float64, memory_format=torch.contiguous_format) * 255.0


def _corners(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(a, b, c, d): the top-left, top-right, bottom-left and bottom-right pixels of the 2×2 blocks."""
    return rows[:, 0::2, 0::2], rows[:, 0::2, 1::2], rows[:, 1::2, 0::2], rows[:, 1::2, 1::2]


def _coefficients(rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(sum, horizontal, vertical, diagonal) Haar details of the 2×2 blocks, each (C, rows, cols)."""
    a, b, c, d = _corners(rows)
    left, right, top_minus, bottom_minus = a + c, b + d, a - b, c - d
    return left + right, left - right, (a + b) - (c + d), top_minus - bottom_minus


def _index(values: torch.Tensor, size: int) -> torch.Tensor:
    """Integer table indices 0..size-1 of 0-255-unit values (rounded for float input, clamped)."""
    if values.is_floating_point():
        return values.round().clamp_(0, size - 1).to(torch.int32)
    return values.to(torch.int32).clamp_(0, size - 1)


def _sum_counts(planar: torch.Tensor, strip_rows: int) -> torch.Tensor:
    """Counts (int64, _SUMS × _DETAILS) of all blocks of all channels by (a+b+c+d, |a-b-c+d|)."""
    counts = torch.zeros(_SUMS * _DETAILS, dtype=torch.int64)
    height = planar.shape[1] // 2
    for top in range(0, height, strip_rows):
        a, b, c, d = _corners(_rows(planar, top, min(top + strip_rows, height)))
        total, diagonal = (a + b) + (c + d), (a - b) - (c - d)
        key = _index(total, _SUMS).mul_(_DETAILS).add_(_index(diagonal.abs(), _DETAILS))
        counts += torch.bincount(key.flatten(), minlength=_SUMS * _DETAILS)
    return counts.view(_SUMS, _DETAILS)


def _strips(planar: torch.Tensor, strip_rows: int) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """(T, block sums, diagonal) of the blocks with a whole 3×3 neighbourhood, strip by strip.

    T (rows, cols) sums over channels, added in a fixed order so a block's T is the same bits in
    any strip; sums and diagonal are (C, rows, cols).
    """
    height, width = planar.shape[1] // 2, planar.shape[2] // 2
    if height < 3 or width < 3:
        return
    for top in range(1, height - 1, strip_rows):
        bottom = min(top + strip_rows, height - 1)
        total, horizontal, vertical, diagonal = _coefficients(_rows(planar, top - 1, bottom + 1))
        wide = torch.float64 if diagonal.is_floating_point() else torch.int32  # T ≤ 26·C·510²: int32 to C = 317
        if wide == torch.int32 and planar.shape[0] > 317:
            wide = torch.int64
        square = diagonal.to(wide, copy=True).square_()  # a copy: float64 input would be squared in place
        energy = horizontal.to(wide, copy=True).square_().add_(vertical.to(wide, copy=True).square_()).add_(square)
        channels = list(zip(energy, square, strict=True))
        all_energy, own = channels[0]
        for more_energy, more_own in channels[1:]:
            all_energy, own = all_energy + more_energy, own + more_own
        across = all_energy[:, :-2] + all_energy[:, 1:-1] + all_energy[:, 2:]
        box = across[:-2] + across[1:-1] + across[2:]
        texture = box - own[1:-1, 1:-1]
        yield texture, total[:, 1:-1, 1:-1], diagonal[:, 1:-1, 1:-1]


def _texture_bins(texture: torch.Tensor) -> torch.Tensor:
    """Row of T's table for each T: floor(16·log2(T + 0.75)) + 7 (T ≥ 0, so rows start at 0)."""
    t = texture.to(torch.float64).clamp_(min=0.0).add_(_T_OFFSET)
    return t.log2_().mul_(_BINS_PER_OCTAVE).floor_().to(torch.int64).add_(7)


def _texture_counts(planar: torch.Tensor, strip_rows: int, inside: torch.Tensor) -> torch.Tensor:
    """Counts (int64, T bins × _DETAILS) of the blocks whose sum is ``inside``, by (T bin, |diagonal|)."""
    channels = planar.shape[0]
    rows = _bin_of(float(26 * channels * 4 * 255**2)) + 1  # T's largest value for values in [0, 255]
    counts = torch.zeros((rows + 1) * _DETAILS, dtype=torch.int64)
    for texture, total, diagonal in _strips(planar, strip_rows):
        bins = _texture_bins(texture).clamp_(max=rows - 1).expand_as(diagonal)
        key = bins.mul(_DETAILS).add_(_index(diagonal.abs(), _DETAILS))
        key = torch.where(inside[_index(total, _SUMS)], key, rows * _DETAILS)  # outside: a last row, dropped
        counts += torch.bincount(key.flatten(), minlength=(rows + 1) * _DETAILS)
    return counts.view(rows + 1, _DETAILS)[:rows]
