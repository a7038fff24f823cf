"""Synthetic noise models. Results are left unclipped (float): clipping would bias N2N targets.

- ``gaussian``: level = σ in 0-255 units; clean + σ/255 · N(0, 1).
- ``poisson``: level = photons at white (λ = clean · level); Poisson(λ) / level. Fewer photons = more noise.
- ``impulse``: level = % of values (each pixel and channel independently) replaced by a
  uniform random value in [0, 1] (random-valued impulse noise).
- ``saltpepper``: level = % of values replaced by 0 or 1 (each with probability ½).
- ``camera``: level = 1000 · a, the shot-noise gain of sensor noise with variance a·x + b in
  linear light (Brooks et al. 2019 draw a in [1e-4, 1.2e-2], i.e. levels 0.1-12); the read-noise
  variance b is drawn on Brooks' line from a (``camera_noise.read_variance``), then RGGB mosaic,
  bilinear demosaic and the sRGB curve (``nnkit.denoise.camera_noise``; no JPEG here). Blind
  ranges of this kind are drawn log-uniformly (``draw_levels``), as Brooks draw a.

``level`` is one number for the whole batch, or a tensor of one level per image (blind
training over a range of levels: ``draw_levels``).
"""

from __future__ import annotations

import math

import torch

from nnkit.denoise.camera_noise import camera_noise, read_variance

NOISE_KINDS: tuple[str, ...] = ("gaussian", "poisson", "impulse", "saltpepper", "camera")
_RECOMMENDED_LOSS = {"gaussian": "mse", "poisson": "mse", "impulse": "l1", "saltpepper": "l1", "camera": "mse"}
CAMERA_LEVEL_SCALE = 1000.0  # camera level = 1000 · a
LEVEL_HELP = {
    "gaussian": "sigma in 0-255 units",
    "poisson": "photons at white (fewer = noisier)",
    "impulse": "% of pixel values replaced by random values",
    "saltpepper": "% of pixel values set to black or white",
    "camera": "1000 x shot-noise gain a (variance a*x + b in linear light; 0.1-12 is Brooks' range)",
}


def check_noise(kind: str, level: float) -> None:
    """Raise ValueError naming the bad value if (kind, level) is not a valid noise setting."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind {kind!r} is not one of {', '.join(NOISE_KINDS)}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not math.isfinite(level):
        raise ValueError(f"noise level for {kind} must be a finite number, got {level!r}")
    if kind == "gaussian" and not 0 <= level <= 255:
        raise ValueError(f"gaussian noise level (sigma, 0-255 units) must be in [0, 255], got {level!r}")
    if kind == "poisson" and not level > 0:
        raise ValueError(f"poisson noise level (photons at white) must be positive, got {level!r}")
    if kind in ("impulse", "saltpepper") and not 0 <= level <= 100:
        raise ValueError(f"{kind} noise level (% of pixel values) must be in [0, 100], got {level!r}")
    if kind == "camera" and not 0 <= level <= 100:
        raise ValueError(f"camera noise level (1000 x shot-noise gain) must be in [0, 100], got {level!r}")


def recommended_loss(kind: str) -> str:
    """The loss whose minimiser is the clean image under this noise: 'mse' (mean) or 'l1' (median)."""
    if kind not in _RECOMMENDED_LOSS:
        raise ValueError(f"noise kind {kind!r} is not one of {', '.join(NOISE_KINDS)}")
    return _RECOMMENDED_LOSS[kind]


CAMERA_MIX_RANGE = (0.1, 12.0)  # camera levels mixed into Gaussian training: Brooks et al.'s shot range
LIGHT_OFFSET = 0.1  # 'light' draws: log-uniform in level + this share of the range


def draw_levels(
    kind: str, low: float, high: float, count: int, generator: torch.Generator, how: str = "uniform"
) -> torch.Tensor:
    """``count`` noise levels drawn in [low, high] (float64, shape (count,)) from ``generator``.

    ``how``: 'uniform', or 'light': level + c log-uniform with c a tenth of the range, so that
    light noise is drawn more often (Gaussian 0-50: 58% of draws below σ 15 instead of 30%). An
    L2 loss is dominated by the heavy-noise images of a batch, and light noise is where a blind
    model trails the non-blind ones; 'light' moves training time there.
    Camera levels with ``low`` > 0 are drawn log-uniformly, as Brooks et al. draw the shot noise.
    """
    if how not in ("uniform", "light"):
        raise ValueError(f"level draw {how!r} is not one of uniform, light")
    check_noise(kind, low)
    check_noise(kind, high)
    if high < low:
        raise ValueError(f"noise level range [{low!r}, {high!r}] is empty: the upper end is below the lower")
    u = torch.rand(count, generator=generator, dtype=torch.float64)
    if how == "light":
        c = LIGHT_OFFSET * (high - low) if high > low else 1.0
        log_low, log_high = math.log(c), math.log(high - low + c)
        return (low + (log_low + (log_high - log_low) * u).exp() - c).clamp(low, high)
    if kind == "camera" and low > 0:
        return (math.log(low) + (math.log(high) - math.log(low)) * u).exp()
    return low + (high - low) * u


def spread_levels(low: float, high: float, count: int) -> list[float]:
    """``count`` levels spread evenly over [low, high] at the centres of equal bins (validation sets)."""
    return [low + (high - low) * (i + 0.5) / count for i in range(count)]


def _per_image(level: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """A (N,) tensor of levels as (N, 1, 1, 1) in the image's dtype and device, for broadcasting."""
    if level.dim() != 1 or clean.dim() < 1 or level.shape[0] != clean.shape[0]:
        raise ValueError(f"one noise level per image needed: {tuple(level.shape)} levels for {tuple(clean.shape)}")
    return level.to(device=clean.device, dtype=clean.dtype).view(-1, *([1] * (clean.dim() - 1)))


def add_noise(
    clean: torch.Tensor, kind: str, level: float | torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """A new noisy tensor (same shape, dtype, device as ``clean``); draws only from ``generator``.

    ``level``: one level, or a (N,) tensor with a level for each image of the batch ``clean``.
    """
    if isinstance(level, torch.Tensor):
        for value in (float(level.min()), float(level.max())) if level.numel() else ():
            check_noise(kind, value)
    else:
        check_noise(kind, level)
    if not isinstance(clean, torch.Tensor) or not clean.is_floating_point():
        raise ValueError(f"clean image must be a floating-point tensor, got {getattr(clean, 'dtype', type(clean))}")
    shape, dtype, device = clean.shape, clean.dtype, clean.device
    scale = _per_image(level, clean) if isinstance(level, torch.Tensor) else level
    if kind == "gaussian":
        if not isinstance(scale, torch.Tensor) and scale == 0:
            return clean.clone()
        noise = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        return clean + noise * (scale / 255.0)
    if kind == "camera":
        return _camera(clean, level, generator)
    if kind == "poisson":
        rate = clean.clamp(min=0.0) * scale
        return torch.poisson(rate, generator=generator) / scale
    hit = torch.rand(shape, generator=generator, dtype=dtype, device=device) < (scale / 100.0)
    if kind == "impulse":
        values = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    else:
        values = (torch.rand(shape, generator=generator, dtype=dtype, device=device) < 0.5).to(dtype)
    return torch.where(hit, values, clean)


def _camera(clean: torch.Tensor, level: float | torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Camera noise of shot gain a = level / 1000 per image, read variance on Brooks' line (level 0: clean)."""
    if clean.dim() != 4 or clean.shape[1] != 3:
        raise ValueError(f"camera noise needs (N, 3, H, W) RGB images, got {tuple(clean.shape)}")
    count = clean.shape[0]
    levels = level.to(torch.float64) if isinstance(level, torch.Tensor) else torch.full((count,), float(level))
    a = levels.to(torch.float64) / CAMERA_LEVEL_SCALE
    if bool((a == 0).all()):
        return clean.clone()
    positive = a.clamp(min=1e-12)  # a level of 0 in a batch: no noise for that image (b scaled to 0 with it)
    b = read_variance(positive, generator) * (a > 0)
    noisy = camera_noise(clean, positive, b, generator)
    return torch.where((a > 0).view(-1, 1, 1, 1).to(clean.device), noisy, clean)
