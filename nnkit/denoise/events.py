"""Trainer events: plain objects the trainer hands to its callback (no Qt here).

The GUI worker turns each into a signal; the CLI prints them; tests collect them.
Images in ``Preview`` are uint8 RGB arrays of shape (N, H, W, 3), as at every edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nnkit.conv_pipeline import Stage
from nnkit.denoise.config import RunConfig
from nnkit.layer_stats import LayerReport

FinishReason = Literal["done", "stopped", "diverged", "error"]


@dataclass(frozen=True)
class Started:
    """The run is set up: what it trains on and where."""

    config: RunConfig
    device: str
    num_parameters: int
    steps_per_epoch: int
    train_size: int
    val_size: int
    noisy_psnr: float  # validation PSNR of the noisy inputs themselves (the floor to beat)
    resumed_from: str = ""  # the checkpoint a resumed run continues ("" for a fresh run)
    resumed_epoch: int = 0  # epochs the resumed checkpoint had done
    start_val_psnr: float = float("nan")  # validation PSNR of the starting weights (measured when resuming)


@dataclass(frozen=True)
class Step:
    """One optimiser step done."""

    step: int  # global, counting from 1
    epoch: int  # counting from 1
    loss: float
    images_per_s: float


@dataclass(frozen=True)
class Epoch:
    """One epoch done and validated."""

    epoch: int
    train_loss: float
    val_psnr: float  # NaN where there are no clean validation images (blind-spot runs on real photos)
    elapsed_s: float
    eta_s: float
    val_ssim: float = float("nan")
    lr: float = float("nan")  # the learning rate this epoch trained with (the schedule's value)
    val_loss: float = float("nan")  # blind-spot runs: the masked loss on held-out hidden pixels


@dataclass(frozen=True)
class Preview:
    """Fixed validation crops: noisy | denoised | clean, with the PSNR of each denoised one.

    Without clean images (blind-spot runs on real photos) ``clean`` repeats the noisy crops and
    the PSNRs are NaN.
    """

    epoch: int
    noisy: np.ndarray
    denoised: np.ndarray
    clean: np.ndarray
    psnr: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class PhotoScores:
    """The whole validation photos scored at the end of a run (fixed noise, stored as 8-bit like a photo)."""

    epoch: int
    level: float  # the noise level of the photos (blind runs: the middle of the range)
    psnr: float  # mean over photos, dB
    ssim: float
    noisy_psnr: float  # the noisy photos themselves
    per_photo: list[tuple[float, float]] = field(default_factory=list)  # (PSNR, SSIM) of each photo


@dataclass(frozen=True)
class Finished:
    """The run ended; ``reason`` says how, ``message`` says it in words for the user."""

    reason: FinishReason
    message: str
    epoch: int = 0
    step: int = 0
    best_psnr: float = float("nan")
    checkpoint: str | None = None  # path of the checkpoint written at the end, if any


@dataclass(frozen=True)
class LayerStats:
    """Per-layer statistics of one inspected step (every ``inspect_every`` steps): plain numbers only."""

    step: int
    epoch: int
    report: LayerReport  # stats by layer name, activation and gradient histograms, input shapes
    pipelines: dict[str, list[Stage]] = field(default_factory=dict)  # each Conv2d's unfold/matmul/fold shapes


@dataclass(frozen=True)
class Lockstep:
    """One step of the nnkit model and of its torch.nn twin on the same batch, from the same weights."""

    step: int
    loss_nnkit: float
    loss_torch: float
    loss_rel_diff: float  # |nnkit - torch| / |torch|
    weight_rel_diff: float  # max over tensors of max |w_nnkit - w_torch| / max |w_torch|, after the step


Event = Started | Step | Epoch | Preview | LayerStats | Lockstep | PhotoScores | Finished
