"""``Denoiser``: a checkpoint's model with its tiling and correction settings, ready to denoise."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nnkit.denoise.array_denoise import check_image, denoise_array, denoise_float
from nnkit.denoise.device import resolve_device
from nnkit.denoise.file_denoise import denoise_file
from nnkit.denoise.mean_correction import check_sigma
from nnkit.denoise.sigma_estimate import estimate_sigma
from nnkit.module import Module


@dataclass
class Denoiser:
    """A model ready to denoise: ``Denoiser.from_checkpoint().denoise(array)``."""

    model: Module
    checkpoint_path: Path | None = None
    checkpoint: Any = None  # nnkit.denoise.checkpoint.Checkpoint when loaded from a file
    tile: int = 256
    overlap: int = 32
    batch: int = 1  # tiles per forward pass: 4 on a GPU (from_checkpoint), 1 on the CPU
    orientations: int = 1  # outputs averaged over this many flips and turns (1, 2, 4 or 8)
    correct_means: bool = True  # the mean correction, for models of Gaussian noise (see ``corrects_means``)
    fade_clean: bool = True  # with the mean correction: fade the result out as the noise does (``fade_strength``)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str] | None = None, *, device: str = "auto") -> Denoiser:
        """Load a checkpoint (the shipped one when ``path`` is None) onto ``device`` ('auto', 'cpu', 'cuda:N')."""
        from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT
        from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

        ckpt_path = Path(path) if path is not None else Path(SHIPPED_CHECKPOINT)
        if not ckpt_path.exists():  # anything else there (a folder, a pipe, no permission): load_checkpoint says
            what = "the shipped checkpoint" if path is None else "checkpoint"
            raise FileNotFoundError(f"{what} {str(ckpt_path)!r} does not exist")
        ckpt = load_checkpoint(ckpt_path)
        model = model_from_checkpoint(ckpt)
        dev = resolve_device(device)
        model.to(device=dev, dtype=torch.float32)
        model.eval()
        return cls(model=model, checkpoint_path=ckpt_path, checkpoint=ckpt, batch=4 if dev.type == "cuda" else 1)

    @property
    def noise_levels(self) -> tuple[float, float] | None:
        """(low, high) noise levels the model was trained on (equal for one fixed level); None if unknown."""
        cfg = getattr(self.checkpoint, "config", None)
        if cfg is None:
            return None
        return cfg.noise_range or (cfg.noise_level, cfg.noise_level)

    @property
    def corrects_means(self) -> bool:
        """Whether ``denoise`` applies the mean correction: asked for, and the checkpoint's noise is Gaussian.

        The correction models zero-mean Gaussian noise clipped to [0, 1]; for impulse or Poisson
        noise, or a bare model whose noise is unknown, the model's output is left as it is.
        """
        cfg = getattr(self.checkpoint, "config", None)
        return self.correct_means and cfg is not None and cfg.noise == "gaussian"

    @staticmethod
    def estimate_sigma(image: np.ndarray) -> float:
        """The Gaussian noise σ of a uint8 (H, W, 3) photo, 0-255 units (nnkit.denoise.sigma_estimate)."""
        return estimate_sigma(check_image(image))

    def denoise(
        self, image: np.ndarray, sigma: float | None = None, strength: float = 1.0, **kwargs: Any
    ) -> np.ndarray:
        """Denoise a uint8 (H, W, 3) array; ``strength`` in [0, 1] blends with the input (1 = full).

        ``sigma`` (0-255) is the photo's noise level when the caller knows it (None: estimated
        from the photo). The models trained here are blind (one network for every level of their
        training range, no noise-level input), so the network does not see it; the mean correction
        (``corrects_means``) uses it. See ``denoise_array`` for tile/overlap/progress/cancel.
        """
        return denoise_array(self.model, image, **self._options(kwargs, sigma, strength))

    def denoise_float(
        self, image: np.ndarray, sigma: float | None = None, strength: float = 1.0, **kwargs: Any
    ) -> np.ndarray:
        """Denoise a float32 (H, W, 3) image in [0, 1], e.g. a ``Photo``'s ``rgb`` (16-bit and float photos
        too); returns float32 (H, W, 3), unrounded, for ``nnkit.denoise.photo.save_like``. As ``denoise``."""
        return denoise_float(self.model, image, **self._options(kwargs, sigma, strength))

    def denoise_file(
        self, in_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], sigma: float | None = None,
        **kwargs: Any,
    ) -> Path:
        """Denoise a file into ``out_dir`` (see ``denoise_file``); ``sigma`` as in ``denoise``."""
        return denoise_file(self.model, in_path, out_dir, **self._options(kwargs, sigma, kwargs.pop("strength", 1.0)))

    def _options(self, kwargs: dict[str, Any], sigma: float | None, strength: float) -> dict[str, Any]:
        """``kwargs`` for ``denoise_array``/``denoise_float``: the correction's σ, the strength, and this
        Denoiser's tiling and orientations unless the call gives its own."""
        self._correction(kwargs, sigma)
        kwargs["strength"] = strength
        for name in ("tile", "overlap", "batch", "orientations"):
            kwargs.setdefault(name, getattr(self, name))
        return kwargs

    def _correction(self, kwargs: dict[str, Any], sigma: float | None) -> None:
        """Check ``sigma`` and ask ``denoise_array`` for the mean correction when this model gets it."""
        if sigma is not None:
            sigma = check_sigma(sigma)
        if self.corrects_means:
            kwargs.setdefault("noise_sigma", "estimate" if sigma is None else sigma)
            kwargs.setdefault("fade_clean", self.fade_clean)

    def describe(self) -> str:
        """One line for users: the network, its training and where it came from."""
        parts = []
        ckpt = self.checkpoint
        if ckpt is not None:
            cfg = ckpt.config
            levels = f"{cfg.noise_level:g}"
            if cfg.noise_range:
                levels += f"-{cfg.noise_level_max:g} (blind)"
            parts.append(f"{cfg.arch} width {cfg.width}, {cfg.noise} noise level {levels}")
            parts.append(f"epoch {ckpt.epoch}, step {ckpt.step}")
            if math.isfinite(ckpt.best_psnr):
                parts.append(f"best val PSNR {ckpt.best_psnr:.2f} dB")
        else:
            parts.append(type(self.model).__name__)
        parts.append(f"{self.model.num_parameters():,} parameters")
        if self.checkpoint_path is not None:
            parts.append(f"from {self.checkpoint_path.name}")
        return "; ".join(parts)
