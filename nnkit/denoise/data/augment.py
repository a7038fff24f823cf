"""Augmentation of clean crops: the 8 orientations and brightness/contrast/colour changes.

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


def _colour(clean: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Brightness ×[0.6, 1.2], contrast ×[0.75, 1.25], colour ±8% per channel from draws r[:, 2:7]; clipped."""
    n = clean.shape[0]
    gain = torch.exp(math.log(0.6) + (math.log(1.2) - math.log(0.6)) * r[:, 2])
    contrast = 0.75 + 0.5 * r[:, 3]
    colour = 1.0 + 0.16 * (r[:, 4:7] - 0.5)
    mean = clean.mean(dim=(1, 2, 3), dtype=torch.float64)
    # ((x - mean) * contrast + mean) * gain * colour, as one multiply-add per value
    scale = ((contrast * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    shift = (((1.0 - contrast) * mean * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    return torch.addcmul(shift, clean, scale).clamp_(0.0, 1.0)
