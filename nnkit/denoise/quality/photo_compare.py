"""Comparing images the way the app shows them: PSNR, SSIM and a difference image, on uint8 (H, W, 3) arrays.

SSIM is ``nnkit.denoise.quality.metrics.ssim`` (Wang et al. 2004: the 11×11 Gaussian window of σ 1.5),
the one validation and the README's tables report, so the app shows the numbers they print.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.quality import metrics
from nnkit.denoise.quality.metrics import SSIM_RADIUS, psnr

SSIM_SIDE = 2 * SSIM_RADIUS + 1
DIFFERENCE_GAIN = 4.0


def photo_tensor(image: np.ndarray, name: str = "image") -> Tensor:
    """A uint8 (H, W, 3) photo as a float64 (3, H, W) tensor in [0, 1]; ValueError naming ``name`` otherwise."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3 or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty uint8 (H, W, 3) image, got {array.dtype} {array.shape}")
    # astype copies (a read-only array, e.g. a cached photo, is never shared with torch)
    return torch.from_numpy(array.astype(np.float64)).permute(2, 0, 1).div_(255.0)


def _same_size(a: np.ndarray, b: np.ndarray) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"the images differ in size: {np.shape(a)[1::-1]} and {np.shape(b)[1::-1]} (width, height)")


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """Structural similarity of two uint8 RGB images of the same size (1.0 when identical)."""
    _same_size(image, reference)
    x, y = photo_tensor(image, "image"), photo_tensor(reference, "reference")
    if min(x.shape[1:]) < SSIM_SIDE:
        raise ValueError(f"SSIM needs images of at least {SSIM_SIDE}×{SSIM_SIDE} pixels, got {x.shape[2]}×{x.shape[1]}")
    return metrics.ssim(x[None], y[None])


def psnr_db(image: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of a uint8 RGB image against a reference of the same size (capped at 100 dB)."""
    _same_size(image, reference)
    return psnr(photo_tensor(image, "image"), photo_tensor(reference, "reference"))


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
