"""Blind-spot data (``target="self"``): crops of noisy images, a few pixels hidden, scored on those only.

Where the noisy images come from:

- ``noise="none"``: the user's photos are the noisy images, nothing is added. ``data_path``
  is a folder of them (``data="folder"``) or a single image file. ``clean_path``, optional,
  holds clean versions (the same file names in a folder, or one file) only to report a PSNR.
- any other noise: the source's images (built-in photos, or a folder or file) are clean; each
  is made noisy *once*, with a fixed draw from the run's seed, saved as an 8-bit photo would
  be (clipped, rounded), and training sees only that noisy image. The clean images score it:
  the synthetic test of a blind-spot model trained on one noisy image.

Split: as for the ``folder`` source, one image gives its bottom fifth to validation, several
give about 15% of the images (chosen by a fixed seed). Training crops are random (uniform over
all crop positions), flipped and turned when ``augment``; no colour changes (they would alter
the noise). Validation: fixed crops of the held-out part, each with ``VAL_MASKS`` fixed masks;
the self-supervised loss is the masked loss on their hidden pixels, the PSNR (when clean images
exist) that of the model's output for the whole noisy crops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.augment import _geometry, _orient
from nnkit.denoise.data.base import VAL_SEED, DataError, PairData, _generator, _to_float, crop_position_weights
from nnkit.denoise.data.blindspot import PackedMaskedLoss, hide_pixels, pack
from nnkit.denoise.data.folder import SINGLE_IMAGE_VAL_FRACTION, VAL_FRACTION, _downscaled, _read_folder
from nnkit.denoise.data.synthetic import VAL_CROP, VAL_CROPS, _val_crops
from nnkit.denoise.imageio import ImageReadError, read_image
from nnkit.denoise.noise import add_noise

VAL_MASKS = 2  # fixed masks per validation crop (more hidden pixels scored, the same crops)
NOISE_STREAM = 7  # generator stream of the one-off synthetic noise


class BlindSpotData(PairData):
    """Masked crops of noisy images: batches of (input with hidden pixels filled, ``pack(noisy, mask)``)."""

    def __init__(
        self,
        train: Sequence[np.ndarray],
        val_noisy: Sequence[np.ndarray],
        val_clean: Sequence[np.ndarray] | None,
        config: RunConfig,
        description: str,
    ) -> None:
        self._weights = crop_position_weights(train, config.crop_size, "image")
        self.images = list(train)
        self.config = config
        self.train_size = config.epoch_size
        size = min(VAL_CROP, *(min(v.shape[:2]) for v in val_noisy))
        self.val_noisy = _val_crops(val_noisy, size, VAL_CROPS)
        self.val_clean = _val_crops(val_clean, size, VAL_CROPS) if val_clean is not None else None
        repeated = self.val_noisy.repeat(VAL_MASKS, 1, 1, 1)
        masked, mask = hide_pixels(repeated, config.mask_fraction, config.mask_fill, _generator(VAL_SEED, 4))
        self.val_masked, self.val_target = masked, pack(repeated, mask)
        self.description = f"{description}; {self.val_noisy.shape[0]} validation crops {size}×{size}"

    def noisy_crops(self, count: int, generator: torch.Generator) -> Tensor:
        """``count`` random crops of the noisy training images, flipped and turned if ``augment``."""
        c = self.config.crop_size
        which = torch.multinomial(self._weights, count, replacement=True, generator=generator).tolist()
        where = torch.rand(count, 2, generator=generator, dtype=torch.float64).tolist()
        draws = torch.rand(count, 2, generator=generator, dtype=torch.float64) if self.config.augment else None
        geometry = _geometry(draws, square=True) if draws is not None else [(False, 0)] * count
        crops = []
        for index, (u, v), (flip, turns) in zip(which, where, geometry, strict=True):
            image = self.images[index]
            y = min(int(u * (image.shape[0] - c + 1)), image.shape[0] - c)
            x = min(int(v * (image.shape[1] - c + 1)), image.shape[1] - c)
            crops.append(_orient(image[y : y + c, x : x + c], flip, turns, axes=(0, 1)))
        return _to_float(np.stack(crops), channels_last=True)

    def make_batch(self, batch_size: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """One (masked input, packed target) batch drawn from ``generator``."""
        noisy = self.noisy_crops(batch_size, generator)
        masked, mask = hide_pixels(noisy, self.config.mask_fraction, self.config.mask_fill, generator)
        return masked, pack(noisy, mask)

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[Tensor, Tensor]]:
        steps = self.batches_per_epoch(batch_size)
        generator = _generator(self.config.seed, int(epoch), 1)
        return (self.make_batch(batch_size, generator) for _ in range(steps))

    def self_supervised_loss(self, predict: Callable[[Tensor], Tensor]) -> float:
        """The masked loss of ``predict`` on the hidden pixels of the fixed validation masks."""
        loss = PackedMaskedLoss(self.config.loss)
        return float(loss.forward(predict(self.val_masked).to(torch.float64), self.val_target.to(torch.float64)))


def _split(images: list[tuple[str, np.ndarray]]) -> tuple[list[int], list[int], str]:
    """(training, validation) image indices, as the folder source splits; one image is split by rows (index -1)."""
    if len(images) == 1:
        return [0], [-1], ""
    n_val = max(1, round(len(images) * VAL_FRACTION))
    order = torch.randperm(len(images), generator=_generator(VAL_SEED, 3)).tolist()
    val = sorted(order[:n_val])
    train = [i for i in range(len(images)) if i not in val]
    names = ", ".join(images[i][0] for i in val[:5]) + (", ..." if n_val > 5 else "")
    return train, val, f"{len(train)} images for training, {n_val} for validation ({names})"


def _rows_split(array: np.ndarray, crop_size: int, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    height = array.shape[0]
    val_rows = max(min(VAL_CROP, crop_size), round(height * SINGLE_IMAGE_VAL_FRACTION))
    if height - val_rows < crop_size:
        raise DataError(
            f"the only image, {name} ({array.shape[1]}x{height}), is too small to split into training and "
            f"validation parts for crop_size {crop_size}: add another image or lower crop_size"
        )
    return array[: height - val_rows], array[height - val_rows :], val_rows


def _read_source(path_text: str, crop_size: int, what: str) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 H×W×3) of a folder's images or of one image file."""
    path = Path(path_text).expanduser()
    if path.is_file():
        try:
            array = read_image(path)
        except ImageReadError as exc:
            raise DataError(f"{what}: {exc}") from None
        if min(array.shape[:2]) < crop_size:
            size = f"{array.shape[1]}x{array.shape[0]}"
            raise DataError(f"{what} {str(path)!r}: {size} is smaller than crop_size {crop_size}")
        return [(path.name, _downscaled(array))]
    if not path.exists():
        raise DataError(f"{what} {str(path)!r} does not exist (expected a folder of images or one image)")
    return _read_folder(path, crop_size)


def _matching_clean(images: list[tuple[str, np.ndarray]], clean_path: str) -> list[np.ndarray]:
    """The clean image of each noisy one: the file in ``clean_path`` of the same name (or the one file given)."""
    found = dict(_read_source(clean_path, 1, "clean_path"))
    single = Path(clean_path).expanduser().is_file()
    out = []
    for name, noisy in images:
        clean = next(iter(found.values())) if single and len(images) == 1 else found.get(name)
        if clean is None:
            raise DataError(f"clean_path {clean_path!r} has no clean image named {name!r}")
        if clean.shape != noisy.shape:
            raise DataError(
                f"clean image for {name!r} is {clean.shape[1]}x{clean.shape[0]}, "
                f"the noisy one {noisy.shape[1]}x{noisy.shape[0]}"
            )
        out.append(clean)
    return out


def _noisy_once(clean: np.ndarray, config: RunConfig, index: int) -> np.ndarray:
    """One fixed noisy draw of a clean uint8 image, stored as an 8-bit photo (clipped and rounded)."""
    x = torch.tensor(clean, dtype=torch.float32).div_(255.0)
    noisy = add_noise(x, config.noise, config.noise_level, _generator(config.seed, NOISE_STREAM, index))
    return noisy.clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8).numpy()


def load_blindspot(config: RunConfig) -> BlindSpotData:
    """The blind-spot data ``config`` asks for (see the module docstring); DataError if unusable."""
    if config.data == "course":
        raise DataError("target 'self' trains on noisy photos (data 'folder' or 'builtin'), not on the course pairs")
    if config.data == "builtin":
        from nnkit.denoise.data.photos import builtin_photos

        named = builtin_photos("train") + builtin_photos("val")
        first_val = len(builtin_photos("train"))
        train_index, val_index = list(range(first_val)), list(range(first_val, len(named)))
        split = f"built-in photos, {len(train_index)} for training, {len(val_index)} for validation"
    else:
        named = _read_source(config.data_path, config.crop_size, "data_path")
        train_index, val_index, split = _split(named)
    if config.noise == "none":
        noisy = [a for _, a in named]
        clean = _matching_clean(named, config.clean_path) if config.clean_path.strip() else None
        origin = "noisy as given" + (f", clean references from {config.clean_path!r}" if clean is not None else "")
    else:
        clean = [a for _, a in named]
        noisy = [_noisy_once(a, config, i) for i, a in enumerate(clean)]
        origin = f"made noisy once ({config.noise} {config.noise_level:g}, seed {config.seed})"
    if val_index == [-1]:  # one image: top rows train, bottom rows validate
        name = named[0][0]
        train_part, val_part, val_rows = _rows_split(noisy[0], config.crop_size, name)
        train, val_noisy = [train_part], [val_part]
        val_clean = [clean[0][-val_rows:]] if clean is not None else None
        split = f"1 image ({name}): top {train_part.shape[0]} rows for training, bottom {val_rows} for validation"
    else:
        train, val_noisy = [noisy[i] for i in train_index], [noisy[i] for i in val_index]
        val_clean = [clean[i] for i in val_index] if clean is not None else None
    return BlindSpotData(train, val_noisy, val_clean, config, f"blind-spot: {split}; {origin}")
