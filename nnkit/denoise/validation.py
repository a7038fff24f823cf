"""Validation of a run: the scores on the validation crops, the preview images, and the whole validation photos.

The score is the PSNR against the clean images, or, for blind-spot runs without clean references,
the self-supervised loss on held-out hidden pixels (then lower is better: ``quality`` turns
both into "higher is better"). The trainer decides what to keep and emits the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import PairData
from nnkit.denoise.engines import Engine
from nnkit.denoise.events import PhotoScores, Preview
from nnkit.denoise.quality.metrics import psnr, psnr_per_image, ssim
from nnkit.denoise.tiling import CancelFn

if TYPE_CHECKING:
    from nnkit.denoise.quality.denoiser_scores import EvalPhoto

PREVIEW_COUNT = 4  # validation crops shown in each Preview
PREVIEW_SIDE = 96  # previews are centre crops of at most this side


def to_uint8(images: Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [0, 1] -> uint8 (N, H, W, 3), clipped and rounded."""
    array = images.detach().to("cpu", torch.float32).clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    return array.permute(0, 2, 3, 1).contiguous().numpy()


def quality(score: float, by_psnr: bool) -> float:
    """A validation score as "higher is better": the PSNR, or minus a blind-spot validation loss."""
    return score if by_psnr else -score


@dataclass(frozen=True)
class ValidationScores:
    """The engine's output on the validation crops and its scores (NaN where there is no clean reference)."""

    denoised: Tensor
    psnr: float
    ssim: float
    loss: float  # the self-supervised loss on held-out hidden pixels (NaN for sources without one)


def score_validation(engine: Engine, data: PairData) -> ValidationScores:
    """Denoise the validation crops and score them: PSNR and SSIM against the clean ones, the blind-spot loss."""
    noisy, clean = data.val_noisy, data.val_clean
    denoised = engine.predict(noisy)
    val_psnr = psnr(denoised, clean) if clean is not None else float("nan")
    val_ssim = ssim(denoised, clean) if clean is not None and min(clean.shape[-2:]) >= 11 else float("nan")
    val_loss = data.self_supervised_loss(engine.predict)
    return ValidationScores(denoised, val_psnr, val_ssim, val_loss)


def score_weights(engine: Engine, data: PairData) -> float:
    """The engine's weights' validation score alone: the PSNR, or the blind-spot loss without clean images."""
    if data.val_clean is not None:
        return psnr(engine.predict(data.val_noisy), data.val_clean)
    return data.self_supervised_loss(engine.predict)


def _centre_crop(images: Tensor, side: int) -> Tensor:
    h, w = images.shape[-2:]
    top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return images[..., top : top + side, left : left + side]


def preview_index(count: int) -> Tensor:
    """PREVIEW_COUNT of ``count`` validation crops spread evenly over the set (so every validation photo shows)."""
    return torch.linspace(0, count - 1, min(PREVIEW_COUNT, count)).round().long()


def preview_event(epoch: int, data: PairData, denoised: Tensor) -> Preview:
    """Centre crops of a few validation images: noisy, denoised, and clean (the noisy ones again without clean)."""
    noisy, clean = data.val_noisy, data.val_clean
    reference = clean if clean is not None else noisy  # no clean images: the noisy ones fill the row
    index = preview_index(int(noisy.shape[0]))
    crops = [_centre_crop(t[index], PREVIEW_SIDE) for t in (noisy, denoised, reference)]
    scores = psnr_per_image(crops[1], crops[2]) if clean is not None else [float("nan")] * len(crops[1])
    return Preview(epoch, to_uint8(crops[0]), to_uint8(crops[1]), to_uint8(crops[2]), scores)


def noisy_photos(config: RunConfig, photos: Sequence[np.ndarray]) -> tuple[float, list[EvalPhoto]]:
    """The noise level scored (the middle of a blind range) and the validation photos with fixed noise at it."""
    from nnkit.denoise.quality.denoiser_scores import with_noise

    span = config.noise_range
    level = (span[0] + span[1]) / 2 if span is not None else config.noise_level
    return level, with_noise([(str(i), p) for i, p in enumerate(photos)], config.noise, level)


def photo_scores_event(
    model: Module, epoch: int, level: float, noisy: list[EvalPhoto], cancel: CancelFn
) -> PhotoScores:
    """PhotoScores of ``model`` on ``noisy_photos`` (8-bit, tiled); ``cancel()`` true raises Cancelled between tiles."""
    from nnkit.denoise.quality.denoiser_scores import score_model
    from nnkit.denoise.quality.photo_compare import psnr_db as photo_psnr

    scores = score_model(model, noisy, cancel=cancel)
    return PhotoScores(
        epoch,
        level,
        sum(s[0] for s in scores) / len(scores),
        sum(s[1] for s in scores) / len(scores),
        sum(photo_psnr(p.noisy, p.clean) for p in noisy) / len(noisy),
        scores,
    )
