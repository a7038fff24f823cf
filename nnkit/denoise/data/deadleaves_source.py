"""The ``deadleaves`` source: synthetic dead-leaves images only (see deadleaves.py), no photos."""

from __future__ import annotations

import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.base import VAL_SEED, _generator
from nnkit.denoise.data.deadleaves import dead_leaves
from nnkit.denoise.data.synthetic import VAL_CROP, SyntheticPairs

VAL_IMAGES = 32  # fixed validation images, as many as the builtin source's validation crops
VAL_STREAM = 4  # generator stream of the validation images (independent of the run's seed)


class DeadLeavesPairs(SyntheticPairs):
    """Every training crop a fresh dead-leaves image (noise as for photos); fixed validation images."""

    def clean_crops(self, count: int, generator: torch.Generator) -> torch.Tensor:
        return dead_leaves(count, self.config.crop_size, generator)


def load_deadleaves(config: RunConfig) -> DeadLeavesPairs:
    """The dead-leaves pairs of ``config``: training crops of ``crop_size``, 32 validation images 96×96."""
    val_clean = dead_leaves(VAL_IMAGES, VAL_CROP, _generator(VAL_SEED, VAL_STREAM))
    description = (
        f"dead leaves: fresh {config.crop_size}×{config.crop_size} images every step, "
        f"{VAL_IMAGES} fixed validation images {VAL_CROP}×{VAL_CROP}"
    )
    return DeadLeavesPairs([], config, val_clean, description)
