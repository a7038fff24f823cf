"""The ``folder`` source: synthetic pairs from the user's own images in ``data_path``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.base import VAL_SEED, DataError, _generator
from nnkit.denoise.data.synthetic import VAL_CROP, VAL_CROPS, SyntheticPairs, _val_crops
from nnkit.denoise.imageio import IMAGE_SUFFIXES, ImageReadError, read_image, special_file_kind

MAX_SIDE = 2048  # folder images with a longer side are downscaled to this
VAL_FRACTION = 0.15  # folder images held out for validation
SINGLE_IMAGE_VAL_FRACTION = 0.2  # rows of a lone folder image used for validation


def _downscaled(array: np.ndarray) -> np.ndarray:
    height, width = array.shape[:2]
    if max(height, width) <= MAX_SIDE:
        return array
    scale = MAX_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.Resampling.LANCZOS))


def _read_folder(folder: Path, crop_size: int) -> list[tuple[str, np.ndarray]]:
    """Usable images of a folder (sorted by name); others are skipped with a warning."""
    if not folder.is_dir():
        raise DataError(f"data_path {str(folder)!r} is not a folder")
    files = []
    for entry in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        kind = special_file_kind(entry)
        if entry.is_file():
            files.append(entry)
        elif kind is not None or not entry.is_dir():  # a pipe, device or socket; a dangling link, a link loop
            why = f"{kind}, not a regular file" if kind is not None else "cannot be read (a broken link?)"
            warnings.warn(f"skipping {str(entry)!r}: {why}", stacklevel=3)
    if not files:
        raise DataError(f"folder {str(folder)!r} holds no files (expected images: {', '.join(IMAGE_SUFFIXES)})")
    images: list[tuple[str, np.ndarray]] = []
    small = 0
    for path in files:
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            warnings.warn(f"skipping {str(path)!r}: not an image file (suffix {path.suffix or 'none'})", stacklevel=3)
            continue
        try:
            array = read_image(path)
        except ImageReadError as exc:
            warnings.warn(f"skipping {exc}", stacklevel=3)
            continue
        if min(array.shape[:2]) < crop_size:
            small += 1
            warnings.warn(
                f"skipping {str(path)!r}: {array.shape[1]}x{array.shape[0]} is smaller than crop_size {crop_size}",
                stacklevel=3,
            )
            continue
        images.append((path.name, _downscaled(array)))
    if not images and small:
        raise DataError(f"all {small} images in {str(folder)!r} are smaller than crop_size {crop_size}")
    if not images:
        raise DataError(f"no usable image in folder {str(folder)!r} ({len(files)} files looked at)")
    return images


def load_folder(config: RunConfig) -> SyntheticPairs:
    folder = Path(config.data_path).expanduser()
    images = _read_folder(folder, config.crop_size)
    c = config.crop_size
    if len(images) == 1:
        name, array = images[0]
        height = array.shape[0]
        val_rows = max(min(VAL_CROP, c), round(height * SINGLE_IMAGE_VAL_FRACTION))
        if height - val_rows < c:
            raise DataError(
                f"the only image, {name} ({array.shape[1]}x{height}), is too small to split into training and "
                f"validation parts for crop_size {c}: add another image or lower crop_size"
            )
        train = [array[: height - val_rows]]
        val = [array[height - val_rows :]]
        split = f"1 image ({name}): top {height - val_rows} rows for training, bottom {val_rows} for validation"
    else:
        n_val = max(1, round(len(images) * VAL_FRACTION))
        order = torch.randperm(len(images), generator=_generator(VAL_SEED, 3)).tolist()
        val_index = set(order[:n_val])
        train = [a for i, (_, a) in enumerate(images) if i not in val_index]
        val = [a for i, (_, a) in enumerate(images) if i in val_index]
        val_names = [images[i][0] for i in sorted(val_index)]
        split = f"{len(train)} images for training, {n_val} for validation ({', '.join(val_names[:5])}"
        split += ", ...)" if n_val > 5 else ")"
    size = min(VAL_CROP, *(min(v.shape[:2]) for v in val))
    val_clean = _val_crops(val, size, VAL_CROPS)
    description = f"folder {str(folder)!r}: {split}; {val_clean.shape[0]} validation crops {size}×{size}"
    return SyntheticPairs(train, config, val_clean, description, val_photos=val)
