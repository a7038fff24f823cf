"""What every data source shares: the PairData interface, seeded generators, uint8 -> float."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from nnkit.denoise.quality.metrics import psnr

VAL_SEED = 5_2024  # fixed: validation sets do not depend on the run's seed


class DataError(ValueError):
    """The training data cannot be used; the message names the file, folder or setting."""


def _seed_for(*keys: int) -> int:
    """An independent 63-bit seed for a tuple of non-negative integers."""
    state = np.random.SeedSequence(list(keys)).generate_state(1, dtype=np.uint64)[0]
    return int(state) & (2**63 - 1)


def _generator(*keys: int) -> torch.Generator:
    return torch.Generator().manual_seed(_seed_for(*keys))


def crop_position_weights(images: Sequence[np.ndarray], crop_size: int, noun: str) -> torch.Tensor:
    """Each training image's number of crop positions (crops are drawn uniformly over all of them).

    DataError, naming the image as a ``noun`` ('photo', 'image'), when one is not uint8 H×W×3 or
    is smaller than the crop.
    """
    c = crop_size
    for image in images:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DataError(f"training {noun}s must be uint8 H×W×3 arrays, got {image.dtype} {image.shape}")
        if min(image.shape[:2]) < c:
            raise DataError(f"training {noun} {image.shape[1]}x{image.shape[0]} is smaller than crop_size {c}")
    return torch.tensor([float((a.shape[0] - c + 1) * (a.shape[1] - c + 1)) for a in images], dtype=torch.float64)


def _to_float(images: np.ndarray, channels_last: bool) -> torch.Tensor:
    """uint8 N×H×W×3 (or N×3×H×W) array -> float32 N×3×H×W tensor in [0, 1], one conversion pass."""
    u8 = torch.from_numpy(np.ascontiguousarray(images))
    if channels_last:
        u8 = u8.permute(0, 3, 1, 2)
    out = torch.empty(u8.shape, dtype=torch.float32)
    out.copy_(u8)
    return out.div_(255.0)


class PairData:
    """Training pairs per epoch and a fixed validation set (float32 CPU, N×3×H×W)."""

    train_size: int
    val_noisy: torch.Tensor
    val_clean: torch.Tensor | None  # None: no clean references (blind-spot training on real noisy photos)
    description: str
    val_photos: Sequence[np.ndarray] = ()  # whole clean validation images (uint8 H×W×3), where the source has them

    def batches_per_epoch(self, batch_size: int) -> int:
        """Steps in one epoch: the incomplete last batch is dropped."""
        self._check_batch_size(batch_size)
        return self.train_size // batch_size

    def epoch_batches(self, epoch: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(input, target) float32 CPU batches of one epoch, deterministic for (seed, epoch)."""
        raise NotImplementedError

    def noisy_psnr(self) -> float:
        """PSNR of the validation inputs against their clean images: the score to beat (NaN without them)."""
        if self.val_clean is None:
            return float("nan")
        return psnr(self.val_noisy, self.val_clean)

    def self_supervised_loss(self, predict: Callable[[torch.Tensor], torch.Tensor]) -> float:
        """The blind-spot loss of ``predict`` on held-out hidden pixels; NaN for sources with targets."""
        return float("nan")

    def _check_batch_size(self, batch_size: int) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > self.train_size:
            raise DataError(
                f"batch_size {batch_size} is larger than the training data ({self.train_size} pairs per epoch)"
            )
