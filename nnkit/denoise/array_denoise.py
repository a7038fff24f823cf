"""Denoise whole images held in memory: uint8 arrays (``denoise_array``) and float photos (``denoise_float``).

Both run the tiled forward pass (``nnkit.denoise.tiling``), then, when asked, the mean
correction and the blend with the input by ``strength`` (faded out on clean photos).
``noise_sigma`` (a Gaussian noise level, 0-255, or ``"estimate"``) turns on the mean
correction (``nnkit.denoise.mean_correction``): the output's local means are made to agree
with the noisy photo's under clipped Gaussian noise, which removes the colour cast of clipped
dark and bright areas and the model's own small offsets. ``Denoiser`` turns it on for models
of Gaussian noise (``correct_means``); the default of the functions here is the model alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.mean_correction import check_sigma, correct_means
from nnkit.denoise.sigma_estimate import estimate_sigma
from nnkit.denoise.tiling import CancelFn, ProgressFn, TileFn, denoise_tensor
from nnkit.module import Module


def check_image(image: np.ndarray) -> np.ndarray:
    """``image`` as an array if a non-empty uint8 (H, W, 3) RGB image, else ValueError naming its dtype and shape."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"image must be a non-empty uint8 array of shape (H, W, 3), got {image.dtype} {image.shape}")
    return image



def check_strength(strength: float) -> float:
    """``strength`` as a float if it is a number in [0, 1], else ValueError naming it."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be a number in [0, 1] (1: the output, 0: the input), got {strength!r}")
    return float(strength)


# The clean-photo fade (issue 21 item 4): below FADE_SIGMA0 of estimated noise the photo is left as it is,
# above FADE_SIGMA0 + FADE_WIDTH it gets the full result. Chosen on the validation photos by scripts/fade_fit.py
# with σ=5 and camera noise (levels 0.3, 1, 3) in the rule: the weak-texture σ estimate reads clean photos
# 0.2-0.5 and σ=5 about 5, so a fade over σ̂ 0-1 keeps clean photos clean and costs no Gaussian σ ≥ 2 and no
# camera level ≥ 1 anything, while it gains 0.8 dB at camera level 0.3, where the network smooths detail away.
FADE_SIGMA0 = 0.0
FADE_WIDTH = 1.0


def fade_strength(sigma: float) -> float:
    """How much of the denoised result a photo of noise level ``sigma`` (0-255) gets: 0 below FADE_SIGMA0, then
    rising linearly to 1 over FADE_WIDTH, so a clean photo comes back (nearly) as it went in."""
    return min(max((sigma - FADE_SIGMA0) / FADE_WIDTH, 0.0), 1.0)


def _correction_sigma(noise_sigma: float | str | None, image: np.ndarray) -> float | None:
    """The σ (0-255) of the mean correction asked for by ``noise_sigma``, or None for none."""
    if noise_sigma is None:
        return None
    if noise_sigma == "estimate":
        return estimate_sigma(image)
    if isinstance(noise_sigma, str):
        raise ValueError(f"noise_sigma must be a noise level in [0, 255], 'estimate' or None, got {noise_sigma!r}")
    return check_sigma(noise_sigma, "noise_sigma")


def denoise_array(
    model: Module,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 32,
    batch: int = 1,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    strength: float = 1.0,
    on_tile: TileFn | None = None,
    orientations: int = 1,
    noise_sigma: float | str | None = None,
    fade_clean: bool = False,
) -> np.ndarray:
    """Denoise a uint8 (H, W, 3) RGB image with ``model``; returns a new uint8 (H, W, 3) array.

    ``strength`` in [0, 1] blends the model's output with the input (before rounding to 8 bits):
    1 gives the output, 0 the input, 0.5 keeps half of the noise (and of what the model smoothed).
    ``noise_sigma``: None (the model's output as it is), the photo's Gaussian noise level
    (0-255), or ``"estimate"`` (estimated from the image): the mean correction, before blending.
    With a noise level, ``fade_clean`` also scales ``strength`` by ``fade_strength(σ)``: a photo
    with (almost) no noise is left (almost) as it is instead of losing fine texture.
    """
    image = check_image(image)
    strength = check_strength(strength)
    sigma = _correction_sigma(noise_sigma, image)
    # uint8 (3, H, W) view: the tiles, the correction's strips and the blend read it in float a part at a time
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    tiling = dict(tile=tile, overlap=overlap, batch=batch, progress=progress, cancel=cancel, on_tile=on_tile)
    y = _denoise_blend(model, x, x, strength, sigma, fade_clean, orientations=orientations, **tiling)
    return y.clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def _denoise_blend(
    model: Module, x: Tensor, seen: Tensor, strength: float, sigma: float | None, fade_clean: bool, **tiling: Any
) -> Tensor:
    """The network's output for ``seen`` (3, H, W), mean-corrected, blended with ``x`` by ``strength`` (times
    ``fade_strength(sigma)`` with ``fade_clean``). ``x`` and ``seen``: uint8 (0-255) or float ([0, 1]); neither
    is changed, and the blend copies one channel of ``x`` at a time (a large photo's memory)."""
    y = denoise_tensor(model, seen, **tiling)
    if sigma is not None:
        y = correct_means(y, seen, sigma)
        if fade_clean:
            strength *= fade_strength(sigma)
    if strength != 1.0:
        for channel in range(3):
            noisy = _unit_float(x[channel])
            y[channel] = noisy.add_(y[channel].sub_(noisy), alpha=strength)
    return y


def _unit_float(plane: Tensor) -> Tensor:
    """A new float32 copy of one (H, W) plane in [0, 1] units (uint8 read as / 255, as the photo's float holds it)."""
    if plane.dtype == torch.uint8:
        return plane.to(torch.float32).div_(255.0)
    return plane.to(torch.float32, copy=True)


def denoise_float(
    model: Module,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 32,
    batch: int = 1,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    strength: float = 1.0,
    on_tile: TileFn | None = None,
    orientations: int = 1,
    noise_sigma: float | str | None = None,
    image8: np.ndarray | None = None,
    fade_clean: bool = False,
) -> np.ndarray:
    """Denoise a float32 (H, W, 3) RGB image in [0, 1] (8-bit, 16-bit or float photos); returns float32 (H, W, 3).

    As ``denoise_array`` without the rounding, so that a 16-bit or float photo is quantised once,
    when written (for an 8-bit photo, the same numbers as ``denoise_array`` before it rounds).
    Values outside [0, 1] (float photos) reach the network clipped, and the blend with
    ``strength`` uses them as they are (strength 0 gives the input back exactly). ``image8``: the
    photo in 8 bits if the caller has it (for the σ estimate; made from ``image`` if not).
    """
    image = np.asarray(image)
    if image.dtype != np.float32 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"image must be a non-empty float32 array of shape (H, W, 3), got {image.dtype} {image.shape}")
    strength = check_strength(strength)
    if noise_sigma == "estimate" and image8 is None:  # the estimate works on 8-bit photos
        image8 = np.rint(np.clip(image, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)
    sigma = _correction_sigma(noise_sigma, image8 if image8 is not None else image)
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)  # the caller's memory: only read
    inside = bool(x.min() >= 0.0) and bool(x.max() <= 1.0)
    seen = x if inside else x.clamp(0.0, 1.0)
    tiling = dict(tile=tile, overlap=overlap, batch=batch, progress=progress, cancel=cancel, on_tile=on_tile)
    y = _denoise_blend(model, x, seen, strength, sigma, fade_clean, orientations=orientations, **tiling)
    return y.permute(1, 2, 0).contiguous().numpy()
