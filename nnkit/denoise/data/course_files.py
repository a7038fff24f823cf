"""The ``course`` source: the course's train_data.pkl / val_data.pkl, loaded without unpickling code."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.augment import _geometry, _orient
from nnkit.denoise.data.base import DataError, PairData, _generator, _to_float


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


def load_course(config: RunConfig) -> CoursePairs:
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
