"""PSNR as in the course: per image 10·log10(1 / MSE) with peak 1.0, then the mean.

The prediction is clipped to [0, 1] first (what an image file could hold); the target is
taken as given. Identical images would give +inf: the PSNR is capped at ``MAX_PSNR`` = 100 dB
(MSE floored at 1e-10) so that means, curves and JSON files stay finite.
"""

from __future__ import annotations

import math

import torch

MAX_PSNR = 100.0
_MIN_MSE = 10.0 ** (-MAX_PSNR / 10.0)


def _as_batch(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(f"psnr expects tensors, got {type(pred).__name__} and {type(target).__name__}")
    if pred.shape != target.shape:
        raise ValueError(f"psnr: pred shape {tuple(pred.shape)} differs from target shape {tuple(target.shape)}")
    if pred.dim() == 3:
        pred, target = pred.unsqueeze(0), target.unsqueeze(0)
    if pred.dim() != 4 or pred.numel() == 0:
        raise ValueError(f"psnr: expected (N, C, H, W) or (C, H, W) non-empty tensors, got {tuple(pred.shape)}")
    return pred, target


def mse_per_image(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each image (float64, shape (N,)), pred clipped to [0, 1]."""
    pred, target = _as_batch(pred, target)
    diff = pred.detach().to(torch.float64).clamp(0.0, 1.0) - target.detach().to(device=pred.device, dtype=torch.float64)
    return diff.square().flatten(1).mean(dim=1)


def psnr_per_image(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """PSNR in dB of each image of a batch, capped at MAX_PSNR."""
    mse = mse_per_image(pred, target).clamp(min=_MIN_MSE).cpu()
    return [-10.0 * math.log10(float(m)) for m in mse]


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over images of the per-image PSNR in dB (peak 1.0, pred clipped to [0, 1])."""
    values = psnr_per_image(pred, target)
    return sum(values) / len(values)
