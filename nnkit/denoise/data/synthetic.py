"""Synthetic pairs: random crops of clean photos with fresh noise, and fixed validation crops."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.augment import DRAWS, _colour, _geometry, _orient
from nnkit.denoise.data.base import VAL_SEED, PairData, _generator, _to_float, crop_position_weights
from nnkit.denoise.data.deadleaves import mixed_crops
from nnkit.denoise.noise import CAMERA_MIX_RANGE, add_noise, draw_levels, spread_levels

VAL_CROP = 96  # side of the validation crops
VAL_CROPS = 24  # validation crops wanted from a folder (the builtin source takes 32, see photos.py)
MAX_VAL_CROPS = 48
VAL_LEVELS = 6  # blind training: validation crops cycle through this many levels spread over the range


def val_levels(config: RunConfig, count: int) -> float | torch.Tensor:
    """The noise level of each of ``count`` validation crops: the fixed level, or levels cycling over the range.

    Cycling (crop i gets level i mod VAL_LEVELS) gives every validation photo, whose crops
    are consecutive, the whole range of levels.
    """
    if config.noise_range is None:
        return config.noise_level
    spread = spread_levels(*config.noise_range, VAL_LEVELS)
    return torch.tensor([spread[i % VAL_LEVELS] for i in range(count)], dtype=torch.float64)


class SyntheticPairs(PairData):
    """Random crops of clean photos with synthetic noise (built-in and folder sources)."""

    def __init__(
        self,
        photos: Sequence[np.ndarray],
        config: RunConfig,
        val_clean: torch.Tensor,
        description: str,
        val_photos: Sequence[np.ndarray] = (),
    ) -> None:
        self._weights = crop_position_weights(photos, config.crop_size, "photo")
        self.photos = list(photos)
        self.config = config
        self.train_size = config.epoch_size
        self.val_clean = val_clean
        g = _generator(VAL_SEED, 2)
        levels = val_levels(config, int(val_clean.shape[0]))
        self.val_noisy = add_noise(val_clean, config.noise, levels, g).clamp_(0.0, 1.0)
        self.val_photos = list(val_photos)  # whole validation images (uint8), scored at the end of a run
        self.description = description

    def clean_crops(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` clean crops: photo crops, each replaced by a dead-leaves image with p = ``dead_leaves_mix``."""
        mix = self.config.dead_leaves_mix
        if mix == 0:  # no extra draws: the photo crops of a seed stay what they were
            return self.photo_crops(count, generator)
        return mixed_crops(self.photo_crops, count, self.config.crop_size, mix, generator)

    def photo_crops(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` random clean crops (uniform over all crop positions of all photos), augmented if asked."""
        c = self.config.crop_size
        which = torch.multinomial(self._weights, count, replacement=True, generator=generator).tolist()
        where = torch.rand(count, 2, generator=generator, dtype=torch.float64).tolist()
        draws = torch.rand(count, DRAWS, generator=generator, dtype=torch.float64) if self.config.augment else None
        geometry = _geometry(draws, square=True) if draws is not None else [(False, 0)] * count
        crops = []
        for index, (u, v), (flip, turns) in zip(which, where, geometry, strict=True):
            photo = self.photos[index]
            y = min(int(u * (photo.shape[0] - c + 1)), photo.shape[0] - c)
            x = min(int(v * (photo.shape[1] - c + 1)), photo.shape[1] - c)
            crops.append(_orient(photo[y : y + c, x : x + c], flip, turns, axes=(0, 1)))
        clean = _to_float(np.stack(crops), channels_last=True)
        return _colour(clean, draws) if draws is not None else clean

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One (input, target) batch drawn from ``generator``."""
        cfg = self.config
        clean = self.clean_crops(batch_size, generator)
        level: float | torch.Tensor = cfg.noise_level
        if cfg.noise_range is not None:  # blind: one level per image, the same for its input and target
            level = draw_levels(cfg.noise, *cfg.noise_range, batch_size, generator, cfg.level_draw)
        camera = camera_picks(batch_size, cfg.camera_mix, generator)
        noisy_input = self._noisy(clean, level, camera, generator).clamp_(0.0, 1.0)
        if cfg.target == "clean":
            return noisy_input, clean
        return noisy_input, self._noisy(clean, level, camera, generator)

    def _noisy(
        self,
        clean: torch.Tensor,
        level: float | torch.Tensor,
        camera: tuple[torch.Tensor, torch.Tensor] | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Fresh noise of the run's kind; the images ``camera`` picks get camera noise at its levels instead."""
        noisy = add_noise(clean, self.config.noise, level, generator)
        if camera is not None:
            picks, levels = camera
            noisy[picks] = add_noise(clean[picks], "camera", levels, generator)
        return noisy

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        steps = self.batches_per_epoch(batch_size)
        return self._iterate(epoch, batch_size, steps)

    def _iterate(self, epoch: int, batch_size: int, steps: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = _generator(self.config.seed, int(epoch), 1)
        for _ in range(steps):
            yield self.make_batch(batch_size, generator)


def camera_picks(
    count: int, mix: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Which of ``count`` images get camera noise (each with probability ``mix``) and their levels.

    None when ``mix`` is 0 or no image is picked; ``mix`` 0 draws nothing, so runs without a
    camera share keep the crops and noise of their seed. The pick and level are drawn once per
    image and shared by its input and target: the two are still independent noise draws of the
    same kind and level, which is what Noise2Noise needs.
    """
    if mix <= 0:
        return None
    picked = torch.rand(count, generator=generator, dtype=torch.float64) < mix
    levels = draw_levels("camera", *CAMERA_MIX_RANGE, count, generator)
    if not bool(picked.any()):
        return None
    return picked.nonzero().flatten(), levels[picked]


def _grid_positions(height: int, width: int, size: int, count: int) -> list[tuple[int, int]]:
    """Up to ``count`` top-left corners of non-overlapping size×size tiles, spread over a centred grid."""
    rows, cols = height // size, width // size
    y0, x0 = (height - rows * size) // 2, (width - cols * size) // 2
    grid = [(y0 + r * size, x0 + c * size) for r in range(rows) for c in range(cols)]
    if count >= len(grid):
        return grid
    picks = np.linspace(0, len(grid) - 1, count).round().astype(int)
    return [grid[i] for i in picks]


def _val_crops(images: Sequence[np.ndarray], size: int, total: int) -> torch.Tensor:
    """Fixed crops from validation images (uint8 H×W×3) -> float32 N×3×size×size in [0, 1]."""
    images = list(images)[:total]
    per_image = max(1, math.ceil(total / len(images)))
    crops = [
        image[y : y + size, x : x + size]
        for image in images
        for y, x in _grid_positions(image.shape[0], image.shape[1], size, per_image)
    ]
    return _to_float(np.stack(crops[:MAX_VAL_CROPS]), channels_last=True)
