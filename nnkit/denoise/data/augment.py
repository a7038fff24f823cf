"""Augmentation of clean crops: the 8 orientations, the channel order and brightness/contrast/colour changes.

Geometry is applied with numpy views while crops are cut (no extra copies, no thread pool);
colour changes are one multiply-add on the float batch.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def _orient(image: np.ndarray, flip: bool, turns: int, axes: tuple[int, int]) -> np.ndarray:
    """A view of ``image`` mirrored left-right (if ``flip``), then turned ``turns`` quarter turns in ``axes``."""
    if flip:
        image = np.flip(image, axis=axes[1])
    return np.rot90(image, turns, axes=axes) if turns else image


def _geometry(r: torch.Tensor, square: bool) -> list[tuple[bool, int]]:
    """(flip, quarter turns) per image from uniform draws r[:, 0:2]: the 8 orientations (2 if not square)."""
    flips = (r[:, 0] < 0.5).tolist()
    turns = (r[:, 1] * 4).long().clamp(max=3).tolist()
    return [(f, k if square else k - k % 2) for f, k in zip(flips, turns, strict=True)]


# The 6 orders of the three channels. Natural photos rarely have one channel near zero over a whole
# region (an underwater photo's red, a night sky's green), and a model that never saw it tints it:
# the first blind model added +0.011 to the green of such a test photo whose noisy input had none.
# Permuting the channels keeps every cross-channel correlation of a photo, only under other names.
CHANNEL_ORDERS = torch.tensor([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]])
DRAWS = 8  # uniform draws per crop: flip, turns, gain, contrast, 3 channel gains, channel order


def _channel_order(clean: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """``clean`` with each image's channels in one of the 6 orders, chosen by the draw r[:, 7]."""
    which = (r[:, 7] * len(CHANNEL_ORDERS)).long().clamp(max=len(CHANNEL_ORDERS) - 1)
    order = CHANNEL_ORDERS[which]  # n×3
    return clean[torch.arange(clean.shape[0])[:, None], order]


def _colour(clean: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Brightness ×[0.6, 1.2], contrast ×[0.75, 1.25], colour ±8% per channel from draws r[:, 2:7]; clipped.

    With an eighth draw per image (r[:, 7]) the channels are also put in a random order first.
    """
    if r.shape[1] > 7:
        clean = _channel_order(clean, r)
    n = clean.shape[0]
    gain = torch.exp(math.log(0.6) + (math.log(1.2) - math.log(0.6)) * r[:, 2])
    contrast = 0.75 + 0.5 * r[:, 3]
    colour = 1.0 + 0.16 * (r[:, 4:7] - 0.5)
    mean = clean.mean(dim=(1, 2, 3), dtype=torch.float64)
    # ((x - mean) * contrast + mean) * gain * colour, as one multiply-add per value
    scale = ((contrast * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    shift = (((1.0 - contrast) * mean * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    return torch.addcmul(shift, clean, scale).clamp_(0.0, 1.0)
