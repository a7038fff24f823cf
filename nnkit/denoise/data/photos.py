"""The photo corpus (assets/photos, licences in assets/LICENSES.md) and the ``builtin`` source.

The corpus is split by photo into train / val / test in ``assets/photos/splits.json``, the one
place the split is written down. The test photos never train a model, choose a checkpoint or
tune a baseline (``corpus_photos("test")`` is for final tables only); the ``builtin`` source
trains on the train split and validates on fixed crops of the val split.
"""

from __future__ import annotations

import functools
import json

import numpy as np

from nnkit.denoise.asset_paths import PHOTOS_DIR
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.base import DataError
from nnkit.denoise.data.synthetic import VAL_CROP, SyntheticPairs, _val_crops
from nnkit.denoise.imageio import read_image

SPLITS = ("train", "val", "test")
SPLITS_FILE = PHOTOS_DIR / "splits.json"
BUILTIN_VAL_CROPS = 32  # 4 fixed 96×96 crops from each of the 8 validation photos


@functools.cache
def corpus_splits() -> dict[str, tuple[str, ...]]:
    """Photo names per split, as splits.json lists them; DataError if the file is unusable."""
    try:
        raw = json.loads(SPLITS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the photo split {str(SPLITS_FILE)!r}: {exc}") from exc
    if not isinstance(raw, dict) or set(raw) != set(SPLITS):
        raise DataError(f"{str(SPLITS_FILE)!r} must map exactly {', '.join(SPLITS)} to lists of photo names")
    splits = {s: tuple(str(n) for n in raw[s]) for s in SPLITS}
    seen: dict[str, str] = {}
    for split, names in splits.items():
        for name in names:
            if name in seen:
                raise DataError(
                    f"photo {name!r} is in both the {seen[name]} and {split} splits of {str(SPLITS_FILE)!r}"
                )
            seen[name] = split
    return splits


@functools.cache
def _read_photo(name: str) -> np.ndarray:
    array = read_image(PHOTOS_DIR / f"{name}.png")
    array.setflags(write=False)
    return array


def corpus_photos(split: str) -> list[tuple[str, np.ndarray]]:
    """The whole photos of a split ('train', 'val' or 'test'), as (name, read-only uint8 H×W×3)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return [(name, _read_photo(name)) for name in corpus_splits()[split]]


def builtin_photos(split: str) -> list[tuple[str, np.ndarray]]:
    """Same as ``corpus_photos`` (the name the engine used before the corpus grew)."""
    return corpus_photos(split)


TRAIN_PHOTOS: tuple[str, ...] = corpus_splits()["train"]
VAL_PHOTOS: tuple[str, ...] = corpus_splits()["val"]
TEST_PHOTOS: tuple[str, ...] = corpus_splits()["test"]


def load_builtin(config: RunConfig) -> SyntheticPairs:
    """Random crops of the training photos; validation: fixed crops of the validation photos."""
    too_small = [(n, a.shape) for n, a in corpus_photos("train") if min(a.shape[:2]) < config.crop_size]
    if too_small:
        name, shape = too_small[0]
        raise DataError(f"crop_size {config.crop_size} is larger than built-in photo {name} {shape[1]}x{shape[0]}")
    photos = [a for _, a in corpus_photos("train")]
    val_images = [a for _, a in corpus_photos("val")]
    val_clean = _val_crops(val_images, VAL_CROP, BUILTIN_VAL_CROPS)
    description = (
        f"built-in photos: {len(photos)} for training, {val_clean.shape[0]} validation crops "
        f"{VAL_CROP}×{VAL_CROP} from {len(VAL_PHOTOS)} held-out photos ({', '.join(VAL_PHOTOS)})"
    )
    return SyntheticPairs(photos, config, val_clean, description, val_photos=val_images)
