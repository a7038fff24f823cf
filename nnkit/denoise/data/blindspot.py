"""Blind-spot masking (Noise2Void / Noise2Self): hide a few pixels of each crop, score only those.

A pixel's noise is independent of its neighbours' noise, so a network that must predict a
pixel from its neighbours alone can learn the signal but never the noise: trained on one
noisy image, with the noisy image itself as the target, it becomes a denoiser.

- ``blindspot_mask``: one hidden pixel per ``cell`` × ``cell`` square, at a random place in
  the square (stratified, as Noise2Void samples), so about ``1 / cell²`` of the pixels; a
  pixel is hidden in all its channels at once (camera noise is often correlated between them).
- ``fill_hidden``: what a hidden pixel shows the network instead of its own value:
  ``neighbour`` copies a random other pixel of its 5×5 neighbourhood (Noise2Void; an offset
  that would leave the image is turned around),
  ``interpolate`` the weighted mean of its 8 neighbours (Noise2Self's donut kernel). Both
  read only the original noisy values of *other* pixels, so the input at a hidden pixel
  carries nothing of that pixel's noise.
- ``pack`` / ``PackedMaskedLoss``: the training target of a blind-spot batch is the noisy
  crop with the mask as one more channel, so that blind-spot batches go through the
  engines (and a CUDA graph) as ordinary ``(input, target)`` pairs.

Every draw comes from the given ``torch.Generator``: the same seed gives the same masks.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nnkit.loss import Loss, MaskedL1Loss, MaskedLoss, MaskedMSELoss

FILLS = ("neighbour", "interpolate")
NEIGHBOUR_RADIUS = 2  # Noise2Void's 5×5 neighbourhood
# Noise2Self's donut: 8 neighbours, the diagonal ones at half weight, the centre excluded
_DONUT = ((-1, -1, 0.5), (-1, 0, 1.0), (-1, 1, 0.5), (0, -1, 1.0), (0, 1, 1.0), (1, -1, 0.5), (1, 0, 1.0), (1, 1, 0.5))


def mask_cell(fraction: float) -> int:
    """Side of the squares that each hold one hidden pixel, for about ``fraction`` of the pixels hidden."""
    if not 0 < fraction <= 0.25:
        raise ValueError(f"mask fraction must be in (0, 0.25], got {fraction!r}")
    return max(2, round(1.0 / math.sqrt(fraction)))


def _reflect(index: Tensor, size: int) -> Tensor:
    """Indices mirrored back into [0, size) at both ends (no edge repeat)."""
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index < size, index, period - index)


def hidden_positions(n: int, height: int, width: int, cell: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(rows, cols), each (n, k): one random pixel in every ``cell`` × ``cell`` square of each image."""
    rows_of_cells, cols_of_cells = -(-height // cell), -(-width // cell)
    top = torch.arange(rows_of_cells) * cell
    left = torch.arange(cols_of_cells) * cell
    cell_h = (height - top).clamp(max=cell)  # the last row and column of squares may be cut short
    cell_w = (width - left).clamp(max=cell)
    u = torch.rand(n, rows_of_cells, cols_of_cells, generator=generator, dtype=torch.float64)
    v = torch.rand(n, rows_of_cells, cols_of_cells, generator=generator, dtype=torch.float64)
    rows = top[:, None] + (u * cell_h[:, None]).long().minimum(cell_h[:, None] - 1)
    cols = left[None, :] + (v * cell_w[None, :]).long().minimum(cell_w[None, :] - 1)
    return rows.reshape(n, -1), cols.reshape(n, -1)


def blindspot_mask(n: int, height: int, width: int, fraction: float, generator: torch.Generator) -> Tensor:
    """Bool (n, 1, height, width) mask of the hidden pixels (about ``fraction`` of them, stratified)."""
    rows, cols = hidden_positions(n, height, width, mask_cell(fraction), generator)
    mask = torch.zeros(n, height * width, dtype=torch.bool)
    mask.scatter_(1, rows * width + cols, True)
    return mask.view(n, 1, height, width)


def _gather(images: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """images (n, c, h, w) at per-image pixel lists (n, k) -> (n, c, k)."""
    n, c, _, w = images.shape
    flat = (rows * w + cols).unsqueeze(1).expand(n, c, rows.shape[1])
    return images.reshape(n, c, -1).gather(2, flat)


def _neighbour_values(images: Tensor, rows: Tensor, cols: Tensor, generator: torch.Generator) -> Tensor:
    """A random other pixel of the 5×5 neighbourhood of each hidden pixel (mirrored at the borders)."""
    side = 2 * NEIGHBOUR_RADIUS + 1
    centre = side * side // 2
    pick = torch.randint(0, side * side - 1, rows.shape, generator=generator)
    pick = pick + (pick >= centre).long()  # skip the centre: the pixel itself
    dy, dx = pick // side - NEIGHBOUR_RADIUS, pick % side - NEIGHBOUR_RADIUS
    h, w = images.shape[-2:]
    # an offset that leaves the image is turned around (mirroring the position instead could land on the pixel itself)
    dy = torch.where((rows + dy < 0) | (rows + dy >= h), -dy, dy)
    dx = torch.where((cols + dx < 0) | (cols + dx >= w), -dx, dx)
    return _gather(images, _reflect(rows + dy, h), _reflect(cols + dx, w))


def _interpolated_values(images: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """The donut-weighted mean of the 8 neighbours of each hidden pixel (mirrored at the borders)."""
    h, w = images.shape[-2:]
    total = sum(weight for _, _, weight in _DONUT)
    out = torch.zeros(*images.shape[:2], rows.shape[1], dtype=images.dtype)
    for dy, dx, weight in _DONUT:
        out.add_(_gather(images, _reflect(rows + dy, h), _reflect(cols + dx, w)), alpha=weight / total)
    return out


def hide_pixels(images: Tensor, fraction: float, fill: str, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(input with hidden pixels filled, bool mask (n, 1, h, w)) for a float (n, c, h, w) batch; ``images`` is kept."""
    if fill not in FILLS:
        raise ValueError(f"mask fill {fill!r} is not one of {', '.join(FILLS)}")
    if images.dim() != 4:
        raise ValueError(f"hide_pixels: expected (N, C, H, W) images, got {tuple(images.shape)}")
    n, c, h, w = images.shape
    rows, cols = hidden_positions(n, h, w, mask_cell(fraction), generator)
    if fill == "neighbour":
        values = _neighbour_values(images, rows, cols, generator)
    else:
        values = _interpolated_values(images, rows, cols)
    flat = rows * w + cols
    masked = images.clone()
    masked.view(n, c, -1).scatter_(2, flat.unsqueeze(1).expand(n, c, flat.shape[1]), values)
    mask = torch.zeros(n, h * w, dtype=torch.bool)
    mask.scatter_(1, flat, True)
    return masked, mask.view(n, 1, h, w)


def pack(target: Tensor, mask: Tensor) -> Tensor:
    """The blind-spot training target: ``target`` (n, c, h, w) with the mask (n, 1, h, w) as channel c."""
    return torch.cat([target, mask.to(target.dtype)], dim=1)


def unpack(packed: Tensor) -> tuple[Tensor, Tensor]:
    """(target, mask) of a packed blind-spot target: every channel but the last, and the last."""
    return packed[:, :-1], packed[:, -1:]


class PackedMaskedLoss(Loss):
    """A masked loss (nnkit.loss.MaskedMSELoss / MaskedL1Loss) on ``pack``ed targets: the ordinary Loss contract."""

    def __init__(self, kind: str = "mse") -> None:
        super().__init__()
        if kind not in ("mse", "l1"):
            raise ValueError(f"loss {kind!r} is not one of mse, l1")
        self.kind = kind
        self.loss_fn: MaskedLoss = MaskedMSELoss() if kind == "mse" else MaskedL1Loss()

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        noisy, mask = unpack(target)
        return self.loss_fn.forward(pred, noisy, mask)

    def backward(self) -> Tensor:
        return self.loss_fn.backward()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kind!r})"
