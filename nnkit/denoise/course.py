"""The course's mini-project interface over the engine: ``Model`` with 0-255 tensors in and out.

A mini-project's ``model.py`` can be two lines::

    from nnkit.denoise.course import Model
    from nnkit import Conv2d, MSELoss, NearestUpsampling, ReLU, Sequential, Sigmoid, TransposeConv2d

* ``Model()`` builds the engine's network (the U-Net of the shipped checkpoint, width 32),
  initialised as a run would be (it starts as the identity: its output layer is zero).
* ``load_pretrained_model()`` loads the shipped checkpoint (trained by Noise2Noise with nnkit,
  Gaussian sigma=25), ready both to predict and to train on.
* ``train(train_input, train_target, num_epochs)`` trains on the given (N, 3, H, W) tensors in
  0-255 (uint8 as in train_data.pkl, or float) with the engine's Trainer: the config's optimiser
  (Adam), batch size (at most N), flips and rotations of the pairs, the last partial batch of
  each epoch dropped (so N >= 1 works). Each call starts a fresh optimiser.
* ``predict(test_input)`` returns float32 (N, 3, H, W) in [0, 255] on the input's device, for
  any batch and image size, in eval mode; the model stays ready to train afterwards.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import torch
from torch import Tensor

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.course_files import CoursePairs
from nnkit.denoise.device import resolve_device
from nnkit.denoise.engines.base import predict_chunks
from nnkit.denoise.events import Epoch, Event, Finished
from nnkit.denoise.models import build_model

VAL_PAIRS = 16  # training pairs whose PSNR against their (noisy) targets is reported per epoch


def _check_images(name: str, images: Tensor) -> Tensor:
    """A (N, 3, H, W) tensor of 0-255 values (uint8 or float), or ValueError naming the argument."""
    if not isinstance(images, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, 3, H, W) in 0-255, got {type(images).__name__}")
    if images.dim() != 4 or images.shape[1] != 3 or images.numel() == 0:
        raise ValueError(f"{name} must have shape (N, 3, H, W) with N, H, W >= 1, got {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise ValueError(f"{name} must be uint8 or floating point (values 0-255), got {images.dtype}")
    return images


def _as_uint8(images: Tensor) -> Tensor:
    """0-255 values as uint8 on the CPU (what the course's data files hold and CoursePairs reads)."""
    if images.dtype == torch.uint8:
        return images.detach().cpu().contiguous()
    return images.detach().to("cpu", torch.float32).clamp(0, 255).round().to(torch.uint8).contiguous()


class Model:
    """The course's ``Model``: ``load_pretrained_model()``, ``train(input, target, num_epochs)``, ``predict(x)``."""

    def __init__(self, config: RunConfig | None = None, *, verbose: bool = False) -> None:
        self.config = config if config is not None else RunConfig()
        self.verbose = verbose
        self.device = resolve_device(self.config.device)
        self.model: Module = build_model(self.config).to(device=self.device).train()
        self.last_finished: Finished | None = None  # the Finished event of the last train() call
        self._runs = 0

    def load_pretrained_model(self, path: str | Path | None = None) -> None:
        """Load the shipped checkpoint (or ``path``), ready to predict and to train (train mode)."""
        from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT
        from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

        checkpoint = load_checkpoint(Path(path) if path is not None else SHIPPED_CHECKPOINT)
        # The checkpoint's own run settings (its architecture, its last learning rate), on this Model's device.
        self.config = checkpoint.config.replace(device=self.config.device, dtype="float32")
        model = model_from_checkpoint(checkpoint)  # in eval mode, as inference wants it
        self.model = model.to(device=self.device, dtype=torch.float32).train()

    def train(self, train_input: Tensor, train_target: Tensor, num_epochs: int) -> None:
        """Train on (input, target) pairs in 0-255 for ``num_epochs`` epochs with the engine's Trainer."""
        from nnkit.denoise.trainer import Trainer

        _check_images("train_input", train_input)
        _check_images("train_target", train_target)
        if train_input.shape != train_target.shape:
            raise ValueError(
                f"train_input {tuple(train_input.shape)} and train_target {tuple(train_target.shape)} differ in shape"
            )
        if isinstance(num_epochs, bool) or not isinstance(num_epochs, int) or num_epochs < 1:
            raise ValueError(f"num_epochs must be a positive integer, got {num_epochs!r}")
        inputs, targets = _as_uint8(train_input), _as_uint8(train_target)
        n = int(inputs.shape[0])
        config = self.config.replace(
            epochs=num_epochs,
            batch_size=min(self.config.batch_size, n),
            seed=self.config.seed + self._runs,  # a new shuffle and new flips on each call
        )
        self._runs += 1
        # Progress only: PSNR of a few training inputs' outputs against their noisy targets (no clean images here).
        shown = min(n, VAL_PAIRS)
        data = CoursePairs(
            inputs, targets, inputs[:shown], targets[:shown], config, f"{n} training pairs given to Model.train"
        )
        trainer = Trainer(config, self._report, model=self.model, data=data)
        finished = trainer.run()
        self.last_finished = finished
        self.model = trainer.model.train()
        if finished.reason == "error":
            raise RuntimeError(f"Model.train: {finished.message}")
        if finished.reason == "diverged":
            warnings.warn(f"Model.train: {finished.message}", RuntimeWarning, stacklevel=2)

    def predict(self, test_input: Tensor) -> Tensor:
        """Denoise (N, 3, H, W) images in 0-255 (uint8 or float): float32 in [0, 255], same shape and device."""
        _check_images("test_input", test_input)
        x = test_input.detach().to(torch.float32) / 255.0
        was_training = self.model.training
        self.model.eval()  # keeps nothing for a backward pass: bounded memory for large images
        try:
            y = predict_chunks(x, self.model.forward, self.device, torch.float32)
        finally:
            self.model.train(was_training)
        return y.clamp_(0.0, 1.0).mul_(255.0)

    def _report(self, event: Event) -> None:
        if self.verbose and isinstance(event, Epoch) and event.epoch > 0:
            loss = f"{event.train_loss:.5f}" if math.isfinite(event.train_loss) else "n/a"
            print(f"epoch {event.epoch}: training loss {loss}, PSNR against noisy targets {event.val_psnr:.2f} dB")
