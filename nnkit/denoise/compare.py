"""Comparing images the way the app shows them: PSNR, SSIM and a difference image, on uint8 (H, W, 3) arrays.

SSIM follows Wang et al. (2004) as scikit-image computes it by default: a 7×7 uniform window,
sample covariances, K1 = 0.01, K2 = 0.03, data range 1, the mean over pixels (where the whole
window fits) and channels. Windowed sums come from integral images (cumulative sums), plain
tensor operations in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.metrics import psnr

SSIM_WINDOW = 7
K1, K2 = 0.01, 0.03
DIFFERENCE_GAIN = 4.0


def _as_tensor(image: np.ndarray, name: str) -> Tensor:
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty uint8 (H, W, 3) image, got {array.dtype} {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).to(torch.float64).div_(255.0)


def _same_size(a: np.ndarray, b: np.ndarray) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"the images differ in size: {np.shape(a)[1::-1]} and {np.shape(b)[1::-1]} (width, height)")


def _window_means(x: Tensor, size: int) -> Tensor:
    """Mean over every size×size window of each channel of (C, H, W): (C, H-size+1, W-size+1)."""
    integral = torch.zeros(x.shape[0], x.shape[1] + 1, x.shape[2] + 1, dtype=x.dtype)
    integral[:, 1:, 1:] = x.cumsum(1).cumsum(2)
    sums = (integral[:, size:, size:] - integral[:, :-size, size:] - integral[:, size:, :-size]
            + integral[:, :-size, :-size])
    return sums / (size * size)


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Structural similarity of two uint8 RGB images of the same size (1.0 when identical)."""
    _same_size(image, reference)
    x, y = _as_tensor(image, "image"), _as_tensor(reference, "reference")
    size = SSIM_WINDOW
    if min(x.shape[1:]) < size:
        raise ValueError(f"SSIM needs images of at least {size}×{size} pixels, got {x.shape[2]}×{x.shape[1]}")
    n = size * size
    cov = n / (n - 1)  # sample covariance, as scikit-image
    mx, my = _window_means(x, size), _window_means(y, size)
    vx = cov * (_window_means(x * x, size) - mx * mx)
    vy = cov * (_window_means(y * y, size) - my * my)
    vxy = cov * (_window_means(x * y, size) - mx * my)
    c1, c2 = K1**2, K2**2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())  # over the pixels whose whole window fits, as scikit-image's crop of (size-1)/2


def psnr_db(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of a uint8 RGB image against a reference of the same size (capped at 100 dB)."""
    _same_size(image, reference)
    return psnr(_as_tensor(image, "image"), _as_tensor(reference, "reference"))


@dataclass(frozen=True)
class Quality:
    """How close an image is to a clean reference."""

    psnr_db: float
    ssim: float


def quality(image: np.ndarray, reference: np.ndarray) -> Quality:
    """PSNR and SSIM of ``image`` against ``reference``."""
    return Quality(psnr_db(image, reference), ssim(image, reference))


def difference_image(original: np.ndarray, denoised: np.ndarray, gain: float = DIFFERENCE_GAIN) -> np.ndarray:
    """What denoising changed, as a picture: mid-grey where nothing changed, ``gain`` × (denoised − original)."""
    _same_size(original, denoised)
    a = torch.from_numpy(np.ascontiguousarray(original)).to(torch.float32)
    b = torch.from_numpy(np.ascontiguousarray(denoised)).to(torch.float32)
    diff = (b - a).mul_(gain).add_(128.0).clamp_(0.0, 255.0).round_()
    return diff.to(torch.uint8).numpy()
