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
least the lowest TEXTURE_FLOOR share of T, and FLOOR_BLOCKS blocks, so an all-texture photo keeps
enough blocks), from that lowest share up to a fixed point: flat blocks come in, textured ones
stay out.

Clipping: a photo stores values in [0, 255]; noise near black or white is cut off, which shrinks
the detail there and lowers T too (a blown-out sky looks flat). Blocks (per channel) whose mean
lies within 2σ of either end are left out, σ and that margin iterated together to a fixed point,
starting with only the blocks exactly at black or white left out.

Medians: 8-bit values make the diagonal detail an integer; its median is interpolated within the
integer's rounding interval, so σ̂ is not quantised in steps of 0.74.

Memory: blocks are read in strips of block rows (with one block row either side for the
neighbourhood) into one table of counts over (distance of the block's mean from black or white,
in 32 bands; T on a log scale, 4 bins an octave; |diagonal|): 13 MB whatever the photo's size, the
same counts, so the same result, for any strip height. A float tensor is read the same way in
float64 (× 255; its details rounded to the table's integers). A photo too small for 3×3
neighbourhoods of blocks gets the plain median over all blocks (``sigma_counts.plain_sigma``).
The parameters (TEXTURE_FLOOR, the χ² median as threshold, the 3×3 neighbourhood) were chosen on
the training and validation photos (``scripts/sigma_error.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from nnkit.denoise.sigma_counts import (
    BAND_OF_SUM,
    BIN_SHIFT,
    DETAILS,
    FLOOR_BLOCKS,
    MAD_TO_SIGMA,
    MARGIN_BANDS,
    MIN_BLOCKS,
    SUMS,
    T_OFFSET,
    TEXTURE_BINS_PER_OCTAVE,
    TEXTURE_FLOOR,
    bin_of,
    clipping_aware_sigma,
    plain_sigma,
    texture_terms,
)

__all__ = ["FLOOR_BLOCKS", "MAD_TO_SIGMA", "MARGIN_BANDS", "MIN_BLOCKS", "STRIP_PIXELS", "TEXTURE_BINS_PER_OCTAVE"]
__all__ += ["TEXTURE_FLOOR", "ImageTooSmall", "check_image", "estimate_sigma"]
STRIP_PIXELS = 128 * 6000  # pixels read at a time (128 rows of a 6000-wide photo)


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
    counts = _texture_counts(planar, strip_rows)
    if int(counts[1:].sum()) < MIN_BLOCKS:  # too small for 3×3 neighbourhoods of blocks: all blocks
        return plain_sigma(_sum_counts(planar, strip_rows))
    return clipping_aware_sigma(counts, planar.shape[0])


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
    """Counts (int64, SUMS × DETAILS) of all blocks of all channels by (a+b+c+d, |a-b-c+d|)."""
    counts = torch.zeros(SUMS * DETAILS, dtype=torch.int64)
    height = planar.shape[1] // 2
    for top in range(0, height, strip_rows):
        a, b, c, d = _corners(_rows(planar, top, min(top + strip_rows, height)))
        total, diagonal = (a + b) + (c + d), (a - b) - (c - d)
        key = _index(total, SUMS).mul_(DETAILS).add_(_index(diagonal.abs(), DETAILS))
        counts += torch.bincount(key.flatten(), minlength=SUMS * DETAILS)
    return counts.view(SUMS, DETAILS)


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
    """Row of T's table for each T: floor(4·log2(T + 0.75)) + 2 (T ≥ 0, so rows start at 0)."""
    t = texture.to(torch.float64).clamp_(min=0.0).add_(T_OFFSET)
    return t.log2_().mul_(TEXTURE_BINS_PER_OCTAVE).floor_().to(torch.int32).add_(BIN_SHIFT)


def _texture_counts(planar: torch.Tensor, strip_rows: int) -> torch.Tensor:
    """Counts (int64, distance bands × T bins × DETAILS) of the blocks with a whole neighbourhood, by
    (band of min(sum, 1020 - sum), T bin, |diagonal|)."""
    bins = bin_of(float(texture_terms(planar.shape[0]) * 510**2)) + 1  # T's largest value for values in [0, 255]
    size = len(MARGIN_BANDS) * bins * DETAILS
    counts = torch.zeros(size, dtype=torch.int64)
    for texture, total, diagonal in _strips(planar, strip_rows):
        band = BAND_OF_SUM[_index(total, SUMS)].to(torch.int32)
        key = band.mul_(bins).add_(_texture_bins(texture).clamp_(max=bins - 1))
        key = key.mul_(DETAILS).add_(_index(diagonal.abs(), DETAILS))
        counts += torch.bincount(key.flatten(), minlength=size)
    return counts.view(len(MARGIN_BANDS), bins, DETAILS)
