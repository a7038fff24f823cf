"""Synthetic noise models. Results are left unclipped (float): clipping would bias N2N targets.

- ``gaussian``: level = σ in 0-255 units; clean + σ/255 · N(0, 1).
- ``poisson``: level = photons at white (λ = clean · level); Poisson(λ) / level. Fewer photons = more noise.
- ``impulse``: level = % of values (each pixel and channel independently) replaced by a
  uniform random value in [0, 1] (random-valued impulse noise).
- ``saltpepper``: level = % of values replaced by 0 or 1 (each with probability ½).
"""

from __future__ import annotations

import math

import torch

NOISE_KINDS: tuple[str, ...] = ("gaussian", "poisson", "impulse", "saltpepper")
_RECOMMENDED_LOSS = {"gaussian": "mse", "poisson": "mse", "impulse": "l1", "saltpepper": "l1"}
LEVEL_HELP = {
    "gaussian": "sigma in 0-255 units",
    "poisson": "photons at white (fewer = noisier)",
    "impulse": "% of pixel values replaced by random values",
    "saltpepper": "% of pixel values set to black or white",
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


def recommended_loss(kind: str) -> str:
    """The loss whose minimiser is the clean image under this noise: 'mse' (mean) or 'l1' (median)."""
    if kind not in _RECOMMENDED_LOSS:
        raise ValueError(f"noise kind {kind!r} is not one of {', '.join(NOISE_KINDS)}")
    return _RECOMMENDED_LOSS[kind]


def add_noise(clean: torch.Tensor, kind: str, level: float, generator: torch.Generator) -> torch.Tensor:
    """A new noisy tensor (same shape, dtype, device as ``clean``); draws only from ``generator``."""
    check_noise(kind, level)
    if not isinstance(clean, torch.Tensor) or not clean.is_floating_point():
        raise ValueError(f"clean image must be a floating-point tensor, got {getattr(clean, 'dtype', type(clean))}")
    shape, dtype, device = clean.shape, clean.dtype, clean.device
    if kind == "gaussian":
        if level == 0:
            return clean.clone()
        noise = torch.randn(shape, generator=generator, dtype=dtype, device=device)
        return clean + noise * (level / 255.0)
    if kind == "poisson":
        rate = clean.clamp(min=0.0) * level
        return torch.poisson(rate, generator=generator) / level
    hit = torch.rand(shape, generator=generator, dtype=dtype, device=device) < (level / 100.0)
    if kind == "impulse":
        values = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    else:
        values = (torch.rand(shape, generator=generator, dtype=dtype, device=device) < 0.5).to(dtype)
    return torch.where(hit, values, clean)
