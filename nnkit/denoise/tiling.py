"""Tiled forward passes: a (3, H, W) image through a model in overlapping tiles, blended without seams.

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
forward pass, undone on the output before the mean.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from nnkit.module import Module

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
TileFn = Callable[[int, int, Tensor], None]  # (top, left, the tile's own output (3, h, w) float in [0, 1])


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
