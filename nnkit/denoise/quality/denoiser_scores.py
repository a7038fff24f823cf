"""PSNR of a denoiser on the full built-in validation photos, with fixed seeded noise.

This is the number quoted for the shipped checkpoint and the baselines (scripts/baselines.py):
each held-out photo (``nnkit.denoise.data.VAL_PHOTOS``) gets noise drawn from a generator
seeded with ``EVAL_SEED`` + its index, and is then stored as a uint8 image (clipped to
[0, 255] and rounded), as a noisy photo file would be. The denoiser sees that uint8 image,
whole, through tiled inference; PSNR is measured against the clean photo (per photo, then
the mean, peak 1.0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nnkit.denoise.inference import denoise_array
from nnkit.denoise.noise import add_noise
from nnkit.denoise.quality.photo_compare import photo_tensor, psnr_db, ssim
from nnkit.module import Module

EVAL_SEED = 2025
DEFAULT_NOISE = ("gaussian", 25.0)

ArrayDenoiser = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EvalPhoto:
    """One validation photo: its name, clean and noisy uint8 arrays."""

    name: str
    clean: np.ndarray
    noisy: np.ndarray


def with_noise(
    named: Sequence[tuple[str, np.ndarray]], noise: str, level: float, *, seed: int = EVAL_SEED
) -> list[EvalPhoto]:
    """(name, clean uint8) photos with fixed noise (photo i seeded ``seed + i``), clipped and quantised to uint8."""
    photos = []
    for index, (name, clean) in enumerate(named):
        generator = torch.Generator().manual_seed(seed + index)
        noisy = add_noise(photo_tensor(clean, name), noise, level, generator)
        noisy_u8 = noisy.clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
        photos.append(EvalPhoto(name, np.asarray(clean), noisy_u8))
    return photos


def noisy_photos(
    noise: str = DEFAULT_NOISE[0], level: float = DEFAULT_NOISE[1], *, split: str = "val", seed: int = EVAL_SEED
) -> list[EvalPhoto]:
    """The built-in photos of ``split`` with fixed noise, quantised to uint8 like a saved photo."""
    from nnkit.denoise.data import builtin_photos

    return with_noise(builtin_photos(split), noise, level, seed=seed)


def score_model(
    model: Module,
    photos: Sequence[EvalPhoto],
    *,
    tile: int = 256,
    overlap: int = 32,
    cancel: Callable[[], bool] | None = None,
) -> list[tuple[float, float]]:
    """(PSNR, SSIM) of ``model`` (tiled inference) on each noisy photo; ``cancel()`` true: Cancelled between tiles."""
    scores = []
    for p in photos:
        out = denoise_array(model, p.noisy, tile=tile, overlap=overlap, cancel=cancel)
        scores.append((psnr_db(out, p.clean), ssim(out, p.clean)))
    return scores


def evaluate_arrays(denoise: ArrayDenoiser, photos: list[EvalPhoto]) -> dict[str, float]:
    """PSNR of ``denoise(noisy_uint8)`` per photo, plus the mean under 'mean'."""
    scores = {p.name: psnr_db(denoise(p.noisy), p.clean) for p in photos}
    scores["mean"] = sum(scores.values()) / len(photos)
    return scores


def evaluate_noisy(photos: list[EvalPhoto]) -> dict[str, float]:
    """PSNR of the noisy inputs themselves (the floor to beat)."""
    return evaluate_arrays(lambda a: a, photos)


def evaluate_model(
    model: Module,
    *,
    noise: str = DEFAULT_NOISE[0],
    level: float = DEFAULT_NOISE[1],
    seed: int = EVAL_SEED,
    tile: int = 256,
    overlap: int = 32,
) -> dict[str, float]:
    """PSNR of ``model`` (tiled inference) on the full validation photos with fixed noise."""
    photos = noisy_photos(noise, level, seed=seed)
    return evaluate_arrays(lambda a: denoise_array(model, a, tile=tile, overlap=overlap), photos)
