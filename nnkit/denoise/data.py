"""Training pairs and a fixed validation set, from three sources.

- ``builtin``: random ``crop_size`` crops of the bundled training photos (assets/photos,
  see assets/LICENSES.md), fresh noise every epoch; validation: 24 fixed 96×96 crops of the
  two held-out photos (chelsea, rocket) with fixed noise.
- ``folder``: the same synthetic pairs from the user's images in ``data_path`` (not
  recursive). About 15% of the images (at least one) are held out for validation, chosen
  by a fixed seed; a folder with a single image gives its bottom fifth to validation.
- ``course``: ``train_data.pkl`` (noisy input, noisy target) and ``val_data.pkl`` (noisy,
  clean), uint8 N×3×H×W tensors, loaded with ``torch.load(weights_only=True)`` only.

Synthetic pairs: the clean crop is augmented (when ``augment``) before noise is added; the
input is clipped to [0, 1] like a real photo; a noisy target is an independent draw left
unclipped (clipping would bias it); a clean target is the clean crop. Every epoch's batches
depend only on (seed, epoch). The validation noise uses a fixed seed that does not depend on
the run's seed, so runs with different seeds are scored on the same images. Batches per
epoch: ``train_size // batch_size`` (the incomplete last batch is dropped, so every step has
the same shape).
"""

from __future__ import annotations

import functools
import math
import pickle
import queue
import threading
import warnings
from collections.abc import Generator, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from PIL import Image

from nnkit.denoise.asset_paths import PHOTOS_DIR
from nnkit.denoise.config import RunConfig
from nnkit.denoise.imageio import IMAGE_SUFFIXES, ImageReadError, read_image
from nnkit.denoise.metrics import psnr
from nnkit.denoise.noise import add_noise

TRAIN_PHOTOS: tuple[str, ...] = ("astronaut", "coffee", "hubble_deep_field", "retina")
VAL_PHOTOS: tuple[str, ...] = ("chelsea", "rocket")
VAL_CROP = 96  # side of the validation crops
VAL_CROPS = 24  # validation crops wanted (builtin: 12 per held-out photo)
MAX_VAL_CROPS = 48
MAX_SIDE = 2048  # folder images with a longer side are downscaled to this
VAL_FRACTION = 0.15  # folder images held out for validation
SINGLE_IMAGE_VAL_FRACTION = 0.2  # rows of a lone folder image used for validation
_VAL_SEED = 5_2024  # fixed: validation sets do not depend on the run's seed


class DataError(ValueError):
    """The training data cannot be used; the message names the file, folder or setting."""


def _seed_for(*keys: int) -> int:
    """An independent 63-bit seed for a tuple of non-negative integers."""
    state = np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0]
    return int(state) & (2**63 - 1)


def _generator(*keys: int) -> torch.Generator:
    return torch.Generator().manual_seed(_seed_for(*keys))


# -- built-in photos -------------------------------------------------------------------------


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


def _to_float(images: np.ndarray, channels_last: bool) -> torch.Tensor:
    """uint8 N×H×W×3 (or N×3×H×W) array -> float32 N×3×H×W tensor in [0, 1], one conversion pass."""
    u8 = torch.from_numpy(np.ascontiguousarray(images))
    if channels_last:
        u8 = u8.permute(0, 3, 1, 2)
    out = torch.empty(u8.shape, dtype=torch.float32)
    out.copy_(u8)
    return out.div_(255.0)


# -- augmentation ----------------------------------------------------------------------------
# Geometry is applied with numpy views while crops are cut (no extra copies, no thread pool);
# colour changes are one multiply-add on the float batch.


def _orient(image: np.ndarray, flip: bool, turns: int, axes: tuple[int, int]) -> np.ndarray:
    """A view of ``image`` mirrored left-right (if ``flip``), then turned ``turns`` quarter turns in ``axes``."""
    if flip:
        image = np.flip(image, axis=axes[1])
    return np.rot90(image, turns, axes=axes) if turns else image


def _geometry(r: torch.Tensor, square: bool) -> list[tuple[bool, int]]:
    """(flip, quarter turns) per image from uniform draws r[:, 0:2]: the 8 orientations (2 if not square)."""
    flips = (r[:, 0] < 0.5).tolist()
    turns = (r[:, 1] * 4).long().clamp(max=3).tolist()
    return [(f, k if square else k - k % 2) for f, k in zip(flips, turns, strict=True)]


def _colour(clean: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """Brightness ×[0.6, 1.2], contrast ×[0.75, 1.25], colour ±8% per channel from draws r[:, 2:7]; clipped."""
    n = clean.shape[0]
    gain = torch.exp(math.log(0.6) + (math.log(1.2) - math.log(0.6)) * r[:, 2])
    contrast = 0.75 + 0.5 * r[:, 3]
    colour = 1.0 + 0.16 * (r[:, 4:7] - 0.5)
    mean = clean.mean(dim=(1, 2, 3), dtype=torch.float64)
    # ((x - mean) * contrast + mean) * gain * colour, as one multiply-add per value
    scale = ((contrast * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    shift = (((1.0 - contrast) * mean * gain)[:, None] * colour).to(clean.dtype).view(n, 3, 1, 1)
    return torch.addcmul(shift, clean, scale).clamp_(0.0, 1.0)


# -- the data sets ---------------------------------------------------------------------------


class PairData:
    """Training pairs per epoch and a fixed validation set (float32 CPU, N×3×H×W)."""

    train_size: int
    val_noisy: torch.Tensor
    val_clean: torch.Tensor
    description: str

    def batches_per_epoch(self, batch_size: int) -> int:
        """Steps in one epoch: the incomplete last batch is dropped."""
        self._check_batch_size(batch_size)
        return self.train_size // batch_size

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(input, target) float32 CPU batches of one epoch, deterministic for (seed, epoch)."""
        raise NotImplementedError

    def noisy_psnr(self) -> float:
        """PSNR of the validation inputs against their clean images: the score to beat."""
        return psnr(self.val_noisy, self.val_clean)

    def _check_batch_size(self, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > self.train_size:
            raise DataError(
                f"batch_size {batch_size} is larger than the training data ({self.train_size} pairs per epoch)"
            )


class SyntheticPairs(PairData):
    """Random crops of clean photos with synthetic noise (built-in and folder sources)."""

    def __init__(
        self,
        photos: Sequence[np.ndarray],
        config: RunConfig,
        val_clean: torch.Tensor,
        description: str,
    ) -> None:
        c = config.crop_size
        for photo in photos:
            if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
                raise DataError(f"training photos must be uint8 H×W×3 arrays, got {photo.dtype} {photo.shape}")
            if min(photo.shape[:2]) < c:
                raise DataError(f"training photo {photo.shape[1]}x{photo.shape[0]} is smaller than crop_size {c}")
        self.photos = list(photos)
        self.config = config
        self.train_size = config.epoch_size
        self._weights = torch.tensor(
            [float((p.shape[0] - c + 1) * (p.shape[1] - c + 1)) for p in self.photos], dtype=torch.float64
        )
        self.val_clean = val_clean
        g = _generator(_VAL_SEED, 2)
        self.val_noisy = add_noise(val_clean, config.noise, config.noise_level, g).clamp_(0.0, 1.0)
        self.description = description

    def clean_crops(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``count`` random clean crops (uniform over all crop positions of all photos), augmented if asked."""
        c = self.config.crop_size
        which = torch.multinomial(self._weights, count, replacement=True, generator=generator).tolist()
        where = torch.rand(count, 2, generator=generator, dtype=torch.float64).tolist()
        draws = torch.rand(count, 7, generator=generator, dtype=torch.float64) if self.config.augment else None
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
        noisy_input = add_noise(clean, cfg.noise, cfg.noise_level, generator).clamp_(0.0, 1.0)
        if cfg.target == "clean":
            return noisy_input, clean
        return noisy_input, add_noise(clean, cfg.noise, cfg.noise_level, generator)

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        steps = self.batches_per_epoch(batch_size)
        return self._iterate(epoch, batch_size, steps)

    def _iterate(self, epoch: int, batch_size: int, steps: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = _generator(self.config.seed, int(epoch), 1)
        for _ in range(steps):
            yield self.make_batch(batch_size, generator)


class CoursePairs(PairData):
    """The course's fixed noisy/noisy training pairs, shuffled (and flipped/rotated) per epoch."""

    def __init__(
        self,
        train_input: torch.Tensor,
        train_target: torch.Tensor,
        val_noisy: torch.Tensor,
        val_clean: torch.Tensor,
        config: RunConfig,
        description: str,
    ) -> None:
        self.train_input = train_input
        self.train_target = train_target
        self.config = config
        self.train_size = int(train_input.shape[0])
        self.val_noisy = _to_float(val_noisy.numpy(), channels_last=False)
        self.val_clean = _to_float(val_clean.numpy(), channels_last=False)
        self.description = description

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        steps = self.batches_per_epoch(batch_size)
        return self._iterate(epoch, batch_size, steps)

    def _iterate(self, epoch: int, batch_size: int, steps: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        generator = _generator(self.config.seed, int(epoch), 1)
        order = torch.randperm(self.train_size, generator=generator)
        inputs, targets = self.train_input.numpy(), self.train_target.numpy()
        square = inputs.shape[2] == inputs.shape[3]
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size].numpy()
            if not self.config.augment:
                yield _to_float(inputs[index], False), _to_float(targets[index], False)
                continue
            draws = torch.rand(batch_size, 2, generator=generator, dtype=torch.float64)
            geometry = _geometry(draws, square)
            x = np.stack([_orient(inputs[i], f, k, (1, 2)) for i, (f, k) in zip(index, geometry, strict=True)])
            y = np.stack([_orient(targets[i], f, k, (1, 2)) for i, (f, k) in zip(index, geometry, strict=True)])
            yield _to_float(x, False), _to_float(y, False)


# -- validation crops ------------------------------------------------------------------------


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


# -- sources ---------------------------------------------------------------------------------


def _load_builtin(config: RunConfig) -> SyntheticPairs:
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
    return SyntheticPairs(photos, config, val_clean, description)


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
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
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


def _load_folder(config: RunConfig) -> SyntheticPairs:
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
        order = torch.randperm(len(images), generator=_generator(_VAL_SEED, 3)).tolist()
        val_index = set(order[:n_val])
        train = [a for i, (_, a) in enumerate(images) if i not in val_index]
        val = [a for i, (_, a) in enumerate(images) if i in val_index]
        val_names = [images[i][0] for i in sorted(val_index)]
        split = f"{len(train)} images for training, {n_val} for validation ({', '.join(val_names[:5])}"
        split += ", ...)" if n_val > 5 else ")"
    size = min(VAL_CROP, *(min(v.shape[:2]) for v in val))
    val_clean = _val_crops(val, size, VAL_CROPS)
    description = f"folder {str(folder)!r}: {split}; {val_clean.shape[0]} validation crops {size}×{size}"
    return SyntheticPairs(train, config, val_clean, description)


def _unpickling_detail(exc: Exception) -> str:
    """The specific part of torch's weights-only error (without its advice to disable the safety check)."""
    boilerplate = ("Weights only load failed", "Please file an issue", "Check the documentation")
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line.replace("WeightsUnpickler error:", "").strip() for line in lines if not line.startswith(boilerplate)]
    return "; ".join(line for line in kept if line) or type(exc).__name__


def _load_tensor_pair(path: Path, role: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A (first, second) pair of uint8 N×3×H×W tensors from a course .pkl file, never unpickling code."""
    if not path.is_file():
        raise DataError(f"course data file {str(path)!r} not found (expected train_data.pkl and val_data.pkl)")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickling_detail(exc)
        if "GLOBAL" in detail or "global" in detail:
            raise DataError(
                f"refusing to load {str(path)!r}: it holds pickled objects other than tensors (possibly code), "
                f"and only plain tensors are loaded ({detail})"
            ) from None
        raise DataError(f"cannot load {str(path)!r}: not a torch tensor file ({detail})") from None
    except Exception as exc:  # torch raises many kinds for truncated or foreign files
        raise DataError(f"cannot load {str(path)!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(loaded, (tuple, list)) or len(loaded) != 2:
        raise DataError(f"{str(path)!r} must hold a tuple of two tensors ({role}), got {type(loaded).__name__}")
    first, second = loaded
    for label, tensor in zip(role.split(", "), (first, second), strict=True):
        if not isinstance(tensor, torch.Tensor):
            raise DataError(f"{str(path)!r}: {label} must be a tensor, got {type(tensor).__name__}")
        if tensor.dtype != torch.uint8:
            raise DataError(f"{str(path)!r}: {label} must be uint8, got {tensor.dtype}")
        if tensor.dim() != 4 or tensor.shape[1] != 3 or 0 in tensor.shape:
            raise DataError(f"{str(path)!r}: {label} must be N×3×H×W, got {tuple(tensor.shape)}")
    if first.shape != second.shape:
        raise DataError(f"{str(path)!r}: shapes differ, {tuple(first.shape)} and {tuple(second.shape)}")
    return first.contiguous(), second.contiguous()


def _load_course(config: RunConfig) -> CoursePairs:
    folder = Path(config.data_path).expanduser()
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        raise DataError(f"data_path {str(folder)!r} is not a folder (expected train_data.pkl and val_data.pkl in it)")
    if config.target == "clean":
        raise DataError("target 'clean' needs clean training images, which the course data do not have: use 'noisy'")
    train_input, train_target = _load_tensor_pair(folder / "train_data.pkl", "noisy input, noisy target")
    val_noisy, val_clean = _load_tensor_pair(folder / "val_data.pkl", "noisy, clean")
    n, _, h, w = train_input.shape
    description = (
        f"course data {str(folder)!r}: {n} training pairs {w}×{h}, {val_noisy.shape[0]} validation images "
        f"{val_noisy.shape[3]}×{val_noisy.shape[2]}"
    )
    return CoursePairs(train_input, train_target, val_noisy, val_clean, config, description)


_SOURCES = {"builtin": _load_builtin, "folder": _load_folder, "course": _load_course}


def load_data(config: RunConfig) -> PairData:
    """The training pairs and validation set that ``config`` asks for; DataError if unusable."""
    loader = _SOURCES.get(config.data)
    if loader is None:
        raise DataError(f"data source {config.data!r} is not one of {', '.join(_SOURCES)}")
    data = loader(config)
    data._check_batch_size(config.batch_size)
    return data


def noisy_psnr(data: PairData) -> float:
    """PSNR of the noisy validation inputs against the clean images (what a denoiser must beat)."""
    return data.noisy_psnr()


T = TypeVar("T")


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def prefetch(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Produce ``items`` in a background thread, up to ``depth`` ahead (torch releases the GIL).

    The order and values are those of ``items``; an exception there is raised here; closing
    or abandoning the returned iterator stops the thread.
    """
    if depth < 1:
        raise ValueError(f"prefetch depth must be at least 1, got {depth}")
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as exc:
            offer(_Failure(exc))
            return
        offer(_END)

    thread = threading.Thread(target=work, name="nnkit-data-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = slots.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
