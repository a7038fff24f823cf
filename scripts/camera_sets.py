"""Photos with camera noise for scripts/baselines.py: Brooks-sampled, or drawn from one split's camera profiles.

Photo i gets its noise from a generator seeded ``EVAL_SEED + i`` (as ``evaluate.with_noise``), is
clipped and stored as 8 bits, and optionally JPEG-compressed at a quality drawn from that
generator. With profiles, the level is the lower end of an ISO band (see ``ISO_BANDS``) and
each photo draws one profile of the split's cameras in that band.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from nnkit.denoise.camera_noise import camera_noise, draw_jpeg_qualities, jpeg, load_profiles, profile_levels
from nnkit.denoise.noise import add_noise
from nnkit.denoise.quality.denoiser_scores import EVAL_SEED, EvalPhoto

ISO_BANDS = (400.0, 1600.0, 6400.0, 25600.0)  # a level L with profiles means ISO in [L, the next band)


def iso_band(level: float) -> tuple[float, float]:
    """[low, high) ISO of the band that starts at ``level``."""
    above = [b for b in ISO_BANDS if b > level]
    return level, above[0] if above else float("inf")


def camera_photos(
    named: Sequence[tuple[str, np.ndarray]],
    level: float,
    *,
    profiles: Path | None = None,
    split: str = "test",
    jpeg_range: tuple[int, int] | None = None,
    seed: int = EVAL_SEED,
) -> list[EvalPhoto]:
    """(name, clean uint8) photos with fixed camera noise at ``level`` (1000·a, or an ISO band with profiles)."""
    table = load_profiles(profiles, split, iso_band(level)) if profiles is not None else None
    out = []
    for index, (name, clean) in enumerate(named):
        g = torch.Generator().manual_seed(seed + index)
        x = torch.from_numpy(np.array(clean, dtype=np.uint8)).permute(2, 0, 1)[None].to(torch.float64).div(255.0)
        if table is None:
            noisy = add_noise(x, "camera", level, g)
        else:
            a, b = profile_levels(table, 1, g)
            noisy = camera_noise(x, a, b, g)
        noisy = noisy.clamp(0.0, 1.0)
        if jpeg_range is not None:
            noisy = jpeg(noisy, draw_jpeg_qualities(1, g, *jpeg_range))
        u8 = noisy[0].mul(255.0).round().to(torch.uint8).permute(1, 2, 0).numpy()
        out.append(EvalPhoto(name, np.asarray(clean), u8))
    return out
