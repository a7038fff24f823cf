"""Tiled inference: denoise images of any size in bounded memory.

The image is cut into overlapping square tiles (``tile`` pixels, neighbours overlapping by
at least ``overlap``). Each tile batch goes through the model on its own, so memory is that of
one batch whatever the photo's size (nnkit layers keep their forward inputs for ``backward``:
each new tile replaces the last one's, and they are dropped at the end). The tiles' outputs
are blended with a smooth window that fades each tile out (raised cosine) over the overlap on every side that has a
neighbour, so that seams vanish and the pixels near a tile's border, which a convolution
sees padded with zeros, count least. An image that fits one tile gives exactly the
untiled result.

``orientations`` (1, 2, 4 or 8) averages the model's outputs over that many flips and
quarter turns of each tile (test-time augmentation; 1 = off): each orientation is one more
forward pass, undone on the output before the mean. It helps a blind-spot model most (see
the README's "Three ways to train" for the measured gain).

``noise_sigma`` (a Gaussian noise level, 0-255, or ``"estimate"``) turns on the mean
correction (``nnkit.denoise.mean_correction``): the output's local means are made to agree
with the noisy photo's under clipped Gaussian noise, which removes the colour cast of clipped
dark and bright areas and the model's own small offsets. ``Denoiser`` turns it on for models
of Gaussian noise (``correct_means``); the default of the functions here is the model alone.

Output files are named ``<name>.denoised.<type>`` from the photo's name alone and keep its
depth, alpha, colour profile and EXIF (``nnkit.denoise.photo``): ``denoise_file`` never writes
over its input, and refuses an existing output unless ``overwrite=True``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.device import resolve_device
from nnkit.denoise.mean_correction import check_sigma, correct_means
from nnkit.denoise.sigma_estimate import estimate_sigma
from nnkit.module import Module

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
TileFn = Callable[[int, int, Tensor], None]  # (top, left, the tile's own output (3, h, w) float in [0, 1])

OUTPUT_SUFFIX = ".denoised"  # result names: x.webp -> x.webp.denoised.png (nnkit.denoise.photo.naming)


class Cancelled(Exception):
    """Inference was cancelled between tiles by the caller's ``cancel()``."""


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``length`` with at least ``overlap`` shared pixels."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    # Spread the tiles evenly: every overlap is at least ``overlap`` and the last tile ends at ``length``.
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def _ramp(n: int) -> Tensor:
    """Raised-cosine ramp of ``n`` float32 values rising strictly from near 0 to near 1."""
    t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return (0.5 - 0.5 * torch.cos(math.pi * t)).to(torch.float32)


def _window_1d(start: int, size: int, length: int, fade: int) -> Tensor:
    """Blending weights of one tile along one axis: 1 inside, fading out towards neighbouring tiles."""
    w = torch.ones(size, dtype=torch.float32)
    fade = min(fade, size // 2)
    if fade > 0 and start > 0:
        w[:fade] = _ramp(fade)
    if fade > 0 and start + size < length:
        w[size - fade :] = _ramp(fade).flip(0)
    return w


ORIENTATIONS = (1, 2, 4, 8)


def _orient(x: Tensor, index: int) -> Tensor:
    """The ``index``-th of the 8 flips and turns of a (N, C, H, W) batch: 0 as is, 1 mirrored, 2 upside down, ..."""
    if index & 4:
        x = x.transpose(-2, -1)
    if index & 1:
        x = x.flip(-1)
    if index & 2:
        x = x.flip(-2)
    return x


def _unorient(x: Tensor, index: int) -> Tensor:
    """Undo ``_orient(x, index)``."""
    if index & 2:
        x = x.flip(-2)
    if index & 1:
        x = x.flip(-1)
    if index & 4:
        x = x.transpose(-2, -1)
    return x


def predict_oriented(model: Module, x: Tensor, orientations: int = 1) -> Tensor:
    """The model's output for ``x``, averaged over ``orientations`` flips and turns (1 = one plain forward)."""
    if orientations not in ORIENTATIONS:
        raise ValueError(f"orientations must be one of {', '.join(map(str, ORIENTATIONS))}, got {orientations!r}")
    out = model(x)
    if orientations == 1:
        return out
    out = out.clone()  # the model may hand back a buffer that its next forward overwrites
    for index in range(1, orientations):
        out.add_(_unorient(model(_orient(x, index).contiguous()), index))
    return out.div_(orientations)


def _model_device_dtype(model: Module) -> tuple[torch.device, torch.dtype]:
    params = model.parameters()
    if not params:
        return torch.device("cpu"), torch.float32
    return params[0].data.device, params[0].data.dtype


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"image must be a non-empty uint8 array of shape (H, W, 3), got {image.dtype} {image.shape}")
    return image


MAX_BATCH = 64  # tiles a forward pass
MAX_TILE = 4096  # pixels a side: one 4096² tile of the width-32 U-Net needs about 64 GB


def _check_tiling(tile: int, overlap: int, batch: int) -> None:
    if isinstance(tile, bool) or not isinstance(tile, int) or not 8 <= tile <= MAX_TILE:
        raise ValueError(f"tile must be an integer between 8 and {MAX_TILE} pixels, got {tile!r}")
    if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap <= tile // 2:
        raise ValueError(f"overlap must be an integer in [0, tile/2 = {tile // 2}], got {overlap!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch must be an integer between 1 and {MAX_BATCH} tiles, got {batch!r}")


def denoise_tensor(
    model: Module,
    image: Tensor,
    *,
    tile: int = 256,
    overlap: int = 32,
    batch: int = 1,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_tile: TileFn | None = None,
    orientations: int = 1,
) -> Tensor:
    """Denoise a float (3, H, W) tensor in [0, 1] tile by tile; returns a float32 CPU (3, H, W) tensor in [0, 1].

    A uint8 (3, H, W) tensor (0-255) is read as float32 / 255 a tile at a time, so that a photo is
    never held in float twice. ``on_tile(top, left, output)`` sees each tile's own output as soon
    as it is computed (before blending), so that a viewer can show the result filling in.
    """
    if not isinstance(image, Tensor) or image.dim() != 3 or image.shape[0] != 3 or image.numel() == 0:
        raise ValueError(f"image tensor must be (3, H, W), got {getattr(image, 'shape', type(image).__name__)}")
    _check_tiling(tile, overlap, batch)
    if orientations not in ORIENTATIONS:
        raise ValueError(f"orientations must be one of {', '.join(map(str, ORIENTATIONS))}, got {orientations!r}")
    device, dtype = _model_device_dtype(model)
    _, height, width = image.shape
    ys, xs = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    boxes = [(y, x, min(tile, height), min(tile, width)) for y in ys for x in xs]
    total = len(boxes)
    src = image.detach().cpu() if image.dtype == torch.uint8 else image.detach().to("cpu", torch.float32)
    out = torch.zeros(3, height, width, dtype=torch.float32)
    # The tiles form a grid and each one's window is a product of a row and a column weight, so the
    # sum of the windows is the product of two 1-D sums: two vectors instead of an H×W plane.
    row_weight, column_weight = torch.zeros(height), torch.zeros(width)
    for y in ys:
        row_weight[y : y + min(tile, height)] += _window_1d(y, min(tile, height), height, overlap)
    for x0 in xs:
        column_weight[x0 : x0 + min(tile, width)] += _window_1d(x0, min(tile, width), width, overlap)
    was_training = model.training
    model.eval()
    try:
        for first in range(0, total, batch):
            if cancel is not None and cancel():
                raise Cancelled(f"cancelled after {first} of {total} tiles")
            chunk = boxes[first : first + batch]
            x = torch.stack([src[:, y : y + h, x0 : x0 + w] for y, x0, h, w in chunk])
            if x.dtype == torch.uint8:
                x = x.to(torch.float32).div_(255.0)
            pred = predict_oriented(model, x.to(device=device, dtype=dtype), orientations)
            pred = pred.detach().to("cpu", torch.float32).clamp_(0.0, 1.0)
            if pred.shape != x.shape:
                raise ValueError(f"model output shape {tuple(pred.shape)} differs from its input {tuple(x.shape)}")
            if on_tile is not None:
                for (y, x0, _h, _w), p in zip(chunk, pred, strict=True):
                    on_tile(y, x0, p)
            if total == 1:  # the whole image in one tile: exactly the untiled result, no blending
                out = pred[0]
            else:
                for (y, x0, h, w), p in zip(chunk, pred, strict=True):
                    win = _window_1d(y, h, height, overlap)[:, None] * _window_1d(x0, w, width, overlap)
                    out[:, y : y + h, x0 : x0 + w].addcmul_(p, win)
            del x, pred
            if progress is not None:
                progress(min(first + batch, total), total)
    finally:
        model.train(was_training)
        model.drop_caches()
    if total == 1:
        return out
    return out.div_(row_weight[:, None]).div_(column_weight)


def check_strength(strength: float) -> float:
    """``strength`` as a float if it is a number in [0, 1], else ValueError naming it."""
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be a number in [0, 1] (1: the output, 0: the input), got {strength!r}")
    return float(strength)


# The clean-photo fade (issue 21 item 4): below FADE_SIGMA0 of estimated noise the photo is left as it is,
# above FADE_SIGMA0 + FADE_WIDTH it gets the full result; chosen on the validation photos by scripts/fade_fit.py.
FADE_SIGMA0 = 1.0
FADE_WIDTH = 6.0


def fade_strength(sigma: float) -> float:
    """How much of the denoised result a photo of noise level ``sigma`` (0-255) gets: 0 below FADE_SIGMA0, then
    rising linearly to 1 over FADE_WIDTH, so a clean photo comes back (nearly) as it went in."""
    return min(max((sigma - FADE_SIGMA0) / FADE_WIDTH, 0.0), 1.0)


def _correction_sigma(noise_sigma: float | str | None, image: np.ndarray) -> float | None:
    """The σ (0-255) of the mean correction asked for by ``noise_sigma``, or None for none."""
    if noise_sigma is None:
        return None
    if noise_sigma == "estimate":
        return estimate_sigma(image)
    if isinstance(noise_sigma, str):
        raise ValueError(f"noise_sigma must be a noise level in [0, 255], 'estimate' or None, got {noise_sigma!r}")
    return check_sigma(noise_sigma, "noise_sigma")


def denoise_array(
    model: Module,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 32,
    batch: int = 1,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    strength: float = 1.0,
    on_tile: TileFn | None = None,
    orientations: int = 1,
    noise_sigma: float | str | None = None,
    fade_clean: bool = False,
) -> np.ndarray:
    """Denoise a uint8 (H, W, 3) RGB image with ``model``; returns a new uint8 (H, W, 3) array.

    ``strength`` in [0, 1] blends the model's output with the input (before rounding to 8 bits):
    1 gives the output, 0 the input, 0.5 keeps half of the noise (and of what the model smoothed).
    ``noise_sigma``: None (the model's output as it is), the photo's Gaussian noise level
    (0-255), or ``"estimate"`` (estimated from the image): the mean correction, before blending.
    With a noise level, ``fade_clean`` also scales ``strength`` by ``fade_strength(σ)``: a photo
    with (almost) no noise is left (almost) as it is instead of losing fine texture.
    """
    image = _check_image(image)
    strength = check_strength(strength)
    sigma = _correction_sigma(noise_sigma, image)
    # uint8 (3, H, W) view: the tiles, the correction's strips and the blend read it in float a part at a time
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    tiling = dict(tile=tile, overlap=overlap, batch=batch, progress=progress, cancel=cancel, on_tile=on_tile)
    y = _denoise_blend(model, x, x, strength, sigma, fade_clean, orientations=orientations, **tiling)
    return y.clamp_(0.0, 1.0).mul_(255.0).round_().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def _denoise_blend(
    model: Module, x: Tensor, seen: Tensor, strength: float, sigma: float | None, fade_clean: bool, **tiling: Any
) -> Tensor:
    """The network's output for ``seen`` (3, H, W), mean-corrected, blended with ``x`` by ``strength`` (times
    ``fade_strength(sigma)`` with ``fade_clean``). ``x`` and ``seen``: uint8 (0-255) or float ([0, 1]); neither
    is changed, and the blend copies one channel of ``x`` at a time (a large photo's memory)."""
    y = denoise_tensor(model, seen, **tiling)
    if sigma is not None:
        y = correct_means(y, seen, sigma)
        if fade_clean:
            strength *= fade_strength(sigma)
    if strength != 1.0:
        for channel in range(3):
            noisy = _unit_float(x[channel])
            y[channel] = noisy.add_(y[channel].sub_(noisy), alpha=strength)
    return y


def _unit_float(plane: Tensor) -> Tensor:
    """A new float32 copy of one (H, W) plane in [0, 1] units (uint8 read as / 255, as the photo's float holds it)."""
    if plane.dtype == torch.uint8:
        return plane.to(torch.float32).div_(255.0)
    return plane.to(torch.float32, copy=True)


def denoise_float(
    model: Module,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 32,
    batch: int = 1,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    strength: float = 1.0,
    on_tile: TileFn | None = None,
    orientations: int = 1,
    noise_sigma: float | str | None = None,
    image8: np.ndarray | None = None,
    fade_clean: bool = False,
) -> np.ndarray:
    """Denoise a float32 (H, W, 3) RGB image in [0, 1] (8-bit, 16-bit or float photos); returns float32 (H, W, 3).

    As ``denoise_array`` without the rounding, so that a 16-bit or float photo is quantised once,
    when written (for an 8-bit photo, the same numbers as ``denoise_array`` before it rounds).
    Values outside [0, 1] (float photos) reach the network clipped, and the blend with
    ``strength`` uses them as they are (strength 0 gives the input back exactly). ``image8``: the
    photo in 8 bits if the caller has it (for the σ estimate; made from ``image`` if not).
    """
    image = np.asarray(image)
    if image.dtype != np.float32 or image.ndim != 3 or image.shape[2] != 3 or 0 in image.shape:
        raise ValueError(f"image must be a non-empty float32 array of shape (H, W, 3), got {image.dtype} {image.shape}")
    strength = check_strength(strength)
    if noise_sigma == "estimate" and image8 is None:  # the estimate works on 8-bit photos
        image8 = np.rint(np.clip(image, 0.0, 1.0) * np.float32(255.0)).astype(np.uint8)
    sigma = _correction_sigma(noise_sigma, image8 if image8 is not None else image)
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)  # the caller's memory: only read
    inside = bool(x.min() >= 0.0) and bool(x.max() <= 1.0)
    seen = x if inside else x.clamp(0.0, 1.0)
    tiling = dict(tile=tile, overlap=overlap, batch=batch, progress=progress, cancel=cancel, on_tile=on_tile)
    y = _denoise_blend(model, x, seen, strength, sigma, fade_clean, orientations=orientations, **tiling)
    return y.permute(1, 2, 0).contiguous().numpy()


def output_path(
    in_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], out_format: str | None = None
) -> Path:
    """Where ``denoise_file`` writes the result of ``in_path``: ``out_dir/<name>.denoised.<type>``.

    Decided from the photo's name alone (``nnkit.denoise.photo.result_name``): ``x.webp`` ->
    ``x.webp.denoised.png``, so photos of the same stem never share a result.
    """
    from nnkit.denoise.photo import result_path

    return result_path(in_path, out_dir, out_format)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def denoise_file(
    model: Module,
    in_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    out_path: str | os.PathLike[str] | None = None,
    out_format: str | None = None,
    quality: int | None = None,
    on_image: Callable[[np.ndarray], None] | None = None,
    notes: list[str] | None = None,
    **tiling: Any,
) -> Path:
    """Denoise a photo file into ``output_path(in_path, out_dir, out_format)`` (or ``out_path``); never over the input.

    The result keeps the photo's depth, grey, alpha, colour profile and EXIF (``nnkit.denoise.photo``);
    ``out_format`` ('png', 'tiff', 'jpeg', 'webp'; default: by the output's suffix) and
    ``quality`` (JPEG, lossy WebP) choose the type. An existing output raises FileExistsError
    unless ``overwrite``; ``on_image`` is called with the photo in 8 bits once read (e.g. to
    estimate its noise); ``notes`` (a list) receives what the output could not keep;
    ``tiling`` goes to ``denoise_float``.
    """
    from nnkit.denoise.photo import read_photo, save_like

    source = Path(in_path)
    target = Path(out_path) if out_path is not None else output_path(source, out_dir, out_format)
    if _same_file(source, target) or source.resolve() == target.resolve():
        raise FileExistsError(f"will not overwrite the input image {str(source)!r} with its denoised version")
    if target.exists() and not overwrite:
        raise FileExistsError(f"output {str(target)!r} already exists (pass overwrite=True to replace it)")
    photo = read_photo(source)
    image8 = photo.rgb8()
    if on_image is not None:
        on_image(image8)
    result = denoise_float(model, photo.rgb, image8=image8, **tiling)
    written, lost = save_like(photo, result, target, fmt=out_format, quality=quality, overwrite=overwrite)
    if notes is not None:
        notes.extend([*photo.notes, *lost])
    return written


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
    fade_clean: bool = False  # with the mean correction: fade the result out as the noise does (``fade_strength``)

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
        return estimate_sigma(_check_image(image))

    def denoise(
        self, image: np.ndarray, sigma: float | None = None, strength: float = 1.0, **kwargs: Any
    ) -> np.ndarray:
        """Denoise a uint8 (H, W, 3) array; ``strength`` in [0, 1] blends with the input (1 = full).

        ``sigma`` (0-255) is the photo's noise level when the caller knows it (None: estimated
        from the photo). The models trained here are blind (one network for every level of their
        training range, no noise-level input), so the network does not see it; the mean correction
        (``corrects_means``) uses it. See ``denoise_array`` for tile/overlap/progress/cancel.
        """
        self._correction(kwargs, sigma)
        kwargs["strength"] = strength
        kwargs.setdefault("tile", self.tile)
        kwargs.setdefault("overlap", self.overlap)
        kwargs.setdefault("batch", self.batch)
        kwargs.setdefault("orientations", self.orientations)
        return denoise_array(self.model, image, **kwargs)

    def denoise_float(
        self, image: np.ndarray, sigma: float | None = None, strength: float = 1.0, **kwargs: Any
    ) -> np.ndarray:
        """Denoise a float32 (H, W, 3) image in [0, 1], e.g. a ``Photo``'s ``rgb`` (16-bit and float photos
        too); returns float32 (H, W, 3), unrounded, for ``nnkit.denoise.photo.save_like``. As ``denoise``."""
        self._correction(kwargs, sigma)
        kwargs["strength"] = strength
        kwargs.setdefault("tile", self.tile)
        kwargs.setdefault("overlap", self.overlap)
        kwargs.setdefault("batch", self.batch)
        kwargs.setdefault("orientations", self.orientations)
        return denoise_float(self.model, image, **kwargs)

    def denoise_file(
        self, in_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], sigma: float | None = None,
        **kwargs: Any,
    ) -> Path:
        """Denoise a file into ``out_dir`` (see ``denoise_file``); ``sigma`` as in ``denoise``."""
        self._correction(kwargs, sigma)
        kwargs.setdefault("tile", self.tile)
        kwargs.setdefault("overlap", self.overlap)
        kwargs.setdefault("batch", self.batch)
        kwargs.setdefault("orientations", self.orientations)
        return denoise_file(self.model, in_path, out_dir, **kwargs)

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
