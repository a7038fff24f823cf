"""Image quality: PSNR as in the course (per image 10·log10(1 / MSE), peak 1.0, then the mean) and SSIM.

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


# -- SSIM ------------------------------------------------------------------------------------
SSIM_SIGMA = 1.5  # Wang et al. 2004: an 11×11 circular-symmetric Gaussian window, σ = 1.5
SSIM_RADIUS = 5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _gaussian_taps(sigma: float, radius: int) -> list[float]:
    weights = [math.exp(-(i * i) / (2.0 * sigma * sigma)) for i in range(-radius, radius + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def _band(size: int, taps: list[float], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The (size - k + 1, size) matrix that filters a length-``size`` signal with ``taps`` ('valid')."""
    k = len(taps)
    band = torch.zeros(size - k + 1, size, dtype=dtype, device=device)
    rows = torch.arange(size - k + 1, device=device)
    for i, t in enumerate(taps):
        band[rows, rows + i] = t
    return band


def _window_mean(x: torch.Tensor, taps: list[float]) -> torch.Tensor:
    """Separable Gaussian filtering of (..., H, W), 'valid' (no padding): two banded matrix products."""
    h, w = x.shape[-2:]
    return _band(h, taps, x.dtype, x.device) @ x @ _band(w, taps, x.dtype, x.device).T


def ssim_per_image(pred: torch.Tensor, target: torch.Tensor) -> list[float]:
    """SSIM of each image of a batch (Wang et al. 2004; Gaussian window σ=1.5, K1=0.01, K2=0.03, peak 1.0).

    The mean of the SSIM map over the positions where the whole 11×11 window fits, and over
    channels: what ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1)`` reports. pred is clipped to [0, 1].
    """
    pred, target = _as_batch(pred, target)
    side = 2 * SSIM_RADIUS + 1
    if min(pred.shape[-2:]) < side:
        raise ValueError(f"ssim: images must be at least {side}×{side} pixels, got {tuple(pred.shape[-2:])}")
    x = pred.detach().to(torch.float64).clamp(0.0, 1.0)
    y = target.detach().to(device=x.device, dtype=torch.float64)
    taps = _gaussian_taps(SSIM_SIGMA, SSIM_RADIUS)
    mu_x, mu_y, xx, yy, xy = _window_mean(torch.stack([x, y, x * x, y * y, x * y]), taps)
    var_x, var_y, cov = xx - mu_x * mu_x, yy - mu_y * mu_y, xy - mu_x * mu_y
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return [float(v) for v in ssim_map.flatten(1).mean(dim=1).cpu()]


def ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over images of the per-image SSIM (see ``ssim_per_image``)."""
    values = ssim_per_image(pred, target)
    return sum(values) / len(values)
