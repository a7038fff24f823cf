"""Mean correction: give the denoised photo the local means the noisy photo says it must have.

Gaussian noise has mean zero, so over any window the noisy photo's mean is, up to σ/window of
noise, what the clean photo's mean is; a denoiser may smooth, but it should not move those
means. Two things do move them:

* **clipping**: a photo stores values in [0, 1], and clipping the noise there lifts dark areas
  and lowers bright ones. The noisy mean is then not the clean one but the mean of a clipped
  Gaussian, ``expected_clipped(x, σ)``; a denoiser that copies the clipped mean keeps the cast;
* **the network's own drift**: a blind model trained by Adam with noisy targets carries a small
  colour offset that jitters from step to step (measured: up to ±0.011 per channel on the
  validation photos after 2 epochs at lr 3e-4).

``correct_means`` asks, in a window around each pixel, that the mean of
``expected_clipped(denoised, σ)`` equal the noisy photo's mean, and moves the denoised value by
one Newton step on that equation: the window's residual divided by the window's mean slope
``∂ expected_clipped / ∂x`` (about 1 away from 0 and 1, ½ at them). Where nothing is clipped
this is the window mean of (noisy − denoised): it returns the low frequencies the model moved
and adds only the noise of a window mean, σ/window. The window (48) and the one step were
chosen on the validation photos (of windows 32, 48, 64, 96 and one or two steps); σ is the
photo's (estimated) noise level. For zero-mean Gaussian noise only: a model of other noise
(impulse, Poisson) is left as it is by the callers.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nnkit.denoise.box_filter import box_mean

WINDOW = 48
STEPS = 1  # Newton steps: a second costs 0.01-0.07 dB on the validation photos (it helps only deep flat shadows)
EDGES = "inside"  # replicated edges count the border's noise up to window/2 times: -0.1 dB on val at σ=50
MIN_SLOPE = 0.05  # never divide by less: a window whose every value is clipped solid
STRIP_PIXELS = 256 * 6000  # pixels corrected at a time (256 rows of a 6000-wide photo, + 47 margin rows)
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _cdf(z: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.erf(z / _SQRT2))


def _pdf(z: Tensor) -> Tensor:
    return torch.exp(-0.5 * z * z) * _INV_SQRT_2PI


def expected_clipped(x: Tensor, sigma: float) -> Tensor:
    """E[clip(x + σZ, 0, 1)] for Z standard normal, elementwise (σ in [0, 1] units, > 0).

    clip(y) = max(y, 0) - max(y - 1, 0), and E[max(x + σZ, 0)] = x Φ(x/σ) + σ φ(x/σ).
    """
    a, b = x / sigma, (x - 1.0) / sigma
    return x * _cdf(a) + sigma * _pdf(a) - (x - 1.0) * _cdf(b) - sigma * _pdf(b)


def expected_clipped_slope(x: Tensor, sigma: float) -> Tensor:
    """∂/∂x of ``expected_clipped``: Φ(x/σ) - Φ((x - 1)/σ), the chance that x + σZ is not clipped."""
    return _cdf(x / sigma) - _cdf((x - 1.0) / sigma)


def check_sigma(sigma: float, name: str = "sigma") -> float:
    """``sigma`` (0-255) as a float if it is a finite number in [0, 255], else ValueError naming it."""
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not 0.0 <= sigma <= 255.0:
        raise ValueError(f"{name} must be a noise level in [0, 255], got {sigma!r}")
    return float(sigma)


def _float_rows(image: Tensor, channel: int, first: int, last: int) -> Tensor:
    """Rows ``first:last`` of one channel in float64; uint8 as the photo's float32 tensor holds it (/ 255)."""
    rows = image[channel, first:last].detach()
    if rows.dtype == torch.uint8:
        rows = rows.to(torch.float32).div_(255.0)
    return rows.to(torch.float64)


def correct_means(
    denoised: Tensor,
    noisy: Tensor,
    sigma: float,
    window: int = WINDOW,
    steps: int = STEPS,
    strip_rows: int | None = None,
) -> Tensor:
    """``denoised`` (float (3, H, W) in [0, 1]) with its window means made consistent with ``noisy``'s.

    ``sigma`` is the noise level in 0-255 units (0: a clean photo, nothing is clipped by noise);
    ``steps`` Newton steps. Returns a new tensor of ``denoised``'s dtype, clipped to [0, 1]; the
    inputs are not changed. ``noisy`` may be a uint8 tensor (0-255), read as float32 / 255 a strip
    at a time. ``strip_rows`` rows are corrected at a time (default: STRIP_PIXELS pixels' worth;
    memory only: the result is that of the whole image up to float64 rounding).
    """
    if denoised.shape != noisy.shape or denoised.dim() != 3:
        shapes = f"denoised {tuple(denoised.shape)} and noisy {tuple(noisy.shape)}"
        raise ValueError(f"correct_means: {shapes} must be one (C, H, W) shape")
    if strip_rows is None:
        strip_rows = max(1, STRIP_PIXELS // max(1, denoised.shape[2]))
    if isinstance(strip_rows, bool) or not isinstance(strip_rows, int) or strip_rows < 1:
        raise ValueError(f"strip_rows must be a positive integer, got {strip_rows!r}")
    s = max(check_sigma(sigma), 1e-3) / 255.0  # σ = 0 is the limit of a tiny σ (no division by zero)
    out = torch.empty_like(denoised)
    height = denoised.shape[1]
    # Each step's box mean reaches window//2 rows up and window - 1 - window//2 down, so a strip
    # read with ``steps`` times that margin gives its own rows exactly as the whole image would
    # (the margin rows themselves are wrong near the cut, and are dropped).
    above, below = steps * (window // 2), steps * (window - 1 - window // 2)
    for top in range(0, height, strip_rows):
        bottom = min(top + strip_rows, height)
        first, last = max(0, top - above), min(height, bottom + below)
        # a channel at a time: scratch is a few float64 planes of one strip
        for channel in range(denoised.shape[0]):
            d = denoised[channel, first:last].detach().to(torch.float64, copy=True)  # updated in place
            target = _float_rows(noisy, channel, first, last)
            for _ in range(steps):
                slope = box_mean(expected_clipped_slope(d, s), window, EDGES).clamp_(min=MIN_SLOPE)
                d = d.add_(box_mean(target - expected_clipped(d, s), window, EDGES).div_(slope)).clamp_(0.0, 1.0)
            out[channel, top:bottom] = d[top - first : bottom - first]
    return out
