"""σ from tables of counts of 2×2 blocks (the arithmetic of ``nnkit.denoise.sigma_estimate``, which
reads a photo into these tables strip by strip; see there for the method)."""

from __future__ import annotations

import math

import torch

MAD_TO_SIGMA = 1.0 / 0.6744897501960817  # 1 / Φ⁻¹(3/4)
MIN_BLOCKS = 256  # fewer usable blocks than this: keep the estimate of the step before
TEXTURE_FLOOR = 0.01  # the lowest share of T always used (chosen on the training and validation photos)
FLOOR_BLOCKS = 1024  # ... and at least this many: σ from fewer is too rough to climb from (a 48×64 photo stalled low)
TEXTURE_BINS_PER_OCTAVE = 4  # T's table: bin j holds 4·log2(T + 0.75) in [j - 2, j - 1)
T_OFFSET = 0.75  # T is a sum of integer squares for 8-bit photos: 4·log2(T + 0.75) is never an integer
BIN_SHIFT = 2  # -floor(4·log2(0.75)): T = 0 is bin 0
CLIP_MARGIN = 2.0  # blocks whose mean is within this many σ of 0 or 255 are left out
DETAILS = 511  # |a - b - c + d| of 8-bit values: 0..510
SUMS = 1021  # a + b + c + d of 8-bit values: 0..1020
# Distance of a block's sum from black or white, min(sum, 1020 - sum), in bands with these lower edges
# (from 6 on, about 2^¼ apart): the clipping margin is applied band by band, rounded down to a band's edge.
MARGIN_BANDS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 29, 34, 40, 48, 57, 68, 81)
MARGIN_BANDS += (96, 114, 136, 161, 192, 228, 272, 323, 384, 457)
BAND_OF_SUM = torch.bucketize(
    torch.minimum(torch.arange(SUMS), 1020 - torch.arange(SUMS)), torch.tensor(MARGIN_BANDS), right=True
).sub_(1)
_MAX_ITERATIONS = 64


def texture_terms(channels: int) -> int:
    """k: the squared details T adds up (3×3 blocks' horizontal and vertical, 8 neighbours' diagonal)."""
    return 26 * channels


def clipping_aware_sigma(counts: torch.Tensor, channels: int) -> float:
    """σ (0-255) from counts over (distance band, T bin, |diagonal|): the fixed point of σ ←
    ``weak_texture_sigma`` over the blocks whose mean lies more than CLIP_MARGIN·σ (rounded down to a band's
    edge) from black and white.

    It starts from all blocks but those exactly at black or white (σ too low, if anything: clipped areas
    look flat), so the margin grows to where clipping stops pulling σ down.
    """
    sigma = weak_texture_sigma(counts[1:].sum(0), channels)
    for _ in range(_MAX_ITERATIONS):
        kept = counts[first_band(4.0 * CLIP_MARGIN * sigma) :].sum(0)
        if int(kept.sum()) < MIN_BLOCKS:
            break
        new = weak_texture_sigma(kept, channels)
        if new == sigma:
            break
        sigma = new
    return sigma


def weak_texture_sigma(textures: torch.Tensor, channels: int) -> float:
    """σ (0-255) from counts over (T bin, |diagonal|): the fixed point of σ ← median over blocks with
    T below 4σ²·median(χ²_k), or the lowest TEXTURE_FLOOR share of T when that holds more.

    It starts from that lowest share and climbs: a pattern whose energy is all in fine detail can be as
    consistent with a high σ as noise is (a 1-pixel checkerboard), and from above the iteration would
    stop there; from below it stops at the flat areas' σ (their blocks are chosen by T, which noise
    leaves independent of their own detail, so their median is unbiased).
    """
    per_bin = textures.sum(1)
    floor = max(TEXTURE_FLOOR * float(per_bin.sum()), float(FLOOR_BLOCKS))
    floor_bin = int(torch.searchsorted(per_bin.cumsum(0), torch.tensor(floor)))
    scale = 4.0 * chi2_median(texture_terms(channels))
    chosen = floor_bin
    sigma = sigma_of(textures[: chosen + 1].sum(0))
    for _ in range(_MAX_ITERATIONS):
        chosen = max(bin_of(scale * sigma * sigma), floor_bin)
        new = sigma_of(textures[: chosen + 1].sum(0))
        if new == sigma:
            break
        sigma = new
    return sigma


def chi2_median(k: int) -> float:
    """The median of χ² with k degrees of freedom (Wilson-Hilferty: within 0.01% for k ≥ 26)."""
    return k * (1.0 - 2.0 / (9.0 * k)) ** 3


def bin_of(t: float) -> int:
    """T's table row for the value ``t`` (as ``sigma_estimate`` bins each block)."""
    return math.floor(TEXTURE_BINS_PER_OCTAVE * math.log2(t + T_OFFSET)) + BIN_SHIFT


def first_band(margin: float) -> int:
    """The distance band that holds ``margin`` (sum units), never the band of blocks at black or white:
    the margin is rounded down to a band's edge (at most 16% down), so a high σ keeps enough blocks."""
    return max(1, sum(1 for edge in MARGIN_BANDS if edge <= margin) - 1)


def sigma_of(counts: torch.Tensor) -> float:
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


def plain_sigma(sums: torch.Tensor) -> float:
    """σ (0-255) from counts over (block sum, |diagonal|): over all blocks, then over those whose mean is more
    than CLIP_MARGIN·σ from black and white (the estimator before issue 21, for a photo too small for T)."""
    first = sigma_of(sums.sum(0))
    inside = sums[_inside(first)].sum(0)
    return sigma_of(inside) if int(inside.sum()) >= MIN_BLOCKS else first


def _inside(sigma: float) -> torch.Tensor:
    """Which block sums (0..1020) lie more than CLIP_MARGIN·σ from black and white (as a mean of 4)."""
    mean = torch.arange(SUMS, dtype=torch.float64) / 4.0
    margin = CLIP_MARGIN * sigma
    return (mean > margin) & (mean < 255.0 - margin)
