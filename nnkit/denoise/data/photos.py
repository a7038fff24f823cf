"""The ``builtin`` source: the bundled photos (assets/photos, licences in assets/LICENSES.md)."""

from __future__ import annotations

import functools

import numpy as np

from nnkit.denoise.asset_paths import PHOTOS_DIR
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.base import DataError
from nnkit.denoise.data.synthetic import VAL_CROP, VAL_CROPS, SyntheticPairs, _val_crops
from nnkit.denoise.imageio import read_image

TRAIN_PHOTOS: tuple[str, ...] = ("astronaut", "coffee", "hubble_deep_field", "retina")
VAL_PHOTOS: tuple[str, ...] = ("chelsea", "rocket")


@functools.cache
def _read_photo(name: str) -> np.ndarray:
    array = read_image(PHOTOS_DIR / f"{name}.png")
    array.setflags(write=False)
    return array


def builtin_photos(split: str) -> list[tuple[str, np.ndarray]]:
    """The bundled photos of a split, 'train' or 'val', as (name, read-only uint8 H×W×3)."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    names = TRAIN_PHOTOS if split == "train" else VAL_PHOTOS
    return [(name, _read_photo(name)) for name in names]


def load_builtin(config: RunConfig) -> SyntheticPairs:
    too_small = [(n, a.shape) for n, a in builtin_photos("train") if min(a.shape[:2]) < config.crop_size]
    if too_small:
        name, shape = too_small[0]
        raise DataError(f"crop_size {config.crop_size} is larger than built-in photo {name} {shape[1]}x{shape[0]}")
    photos = [a for _, a in builtin_photos("train")]
    val_images = [a for _, a in builtin_photos("val")]
    val_clean = _val_crops(val_images, VAL_CROP, VAL_CROPS)
    description = (
        f"built-in photos: {len(photos)} for training ({', '.join(TRAIN_PHOTOS)}), "
        f"{val_clean.shape[0]} validation crops {VAL_CROP}×{VAL_CROP} from {', '.join(VAL_PHOTOS)}"
    )
    return SyntheticPairs(photos, config, val_clean, description, val_photos=val_images)
