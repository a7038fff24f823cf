"""The mean over a square window around every pixel, by an integral image."""

from __future__ import annotations

import torch
from torch import Tensor

EDGES = ("replicate", "inside")


def box_mean(values: Tensor, window: int, edges: str = "replicate") -> Tensor:
    """Mean over the window×window box around each pixel of a (..., H, W) tensor, in float64.

    At the borders, ``edges="replicate"`` extends the image by its edge values (every pixel
    averages window² values), and ``"inside"`` averages only the part of the box inside the
    image (no value counts twice: the mean of noise stays as quiet at a border as inside).
    An even window covers window/2 pixels before the centre and window/2 - 1 after. The sums
    come from cumulative sums (an integral image) in float64, whose rounding stays far below
    8-bit steps even for a 4K photo; leading dimensions go one at a time, so the scratch memory
    is a few planes, not the whole stack.
    """
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if edges not in EDGES:
        raise ValueError(f"edges must be one of {', '.join(EDGES)}, got {edges!r}")
    if values.dim() < 2:
        raise ValueError(f"box_mean needs a (..., H, W) tensor, got shape {tuple(values.shape)}")
    planes = values.reshape(-1, *values.shape[-2:])
    out = torch.empty(planes.shape, dtype=torch.float64, device=values.device)
    mean = _replicated if edges == "replicate" else _inside
    for plane, result in zip(planes, out, strict=True):
        result.copy_(mean(plane.to(torch.float64), window))
    return out.reshape(values.shape)


def _integral(plane: Tensor) -> Tensor:
    """Sums of plane[:y, :x] at [y, x] (a zero row and column in front)."""
    integral = torch.zeros(plane.shape[0] + 1, plane.shape[1] + 1, dtype=torch.float64, device=plane.device)
    integral[1:, 1:] = plane.cumsum(0).cumsum(1)
    return integral


def _replicated(plane: Tensor, window: int) -> Tensor:
    before, after = window // 2, window - 1 - window // 2
    h, w = plane.shape
    rows = torch.cat([plane[:1].expand(before, -1), plane, plane[-1:].expand(after, -1)], dim=0)
    padded = torch.cat([rows[:, :1].expand(-1, before), rows, rows[:, -1:].expand(-1, after)], dim=1)
    integral = _integral(padded)
    total = (
        integral[window : window + h, window : window + w]
        - integral[:h, window : window + w]
        - integral[window : window + h, :w]
        + integral[:h, :w]
    )
    return total / (window * window)


def _inside(plane: Tensor, window: int) -> Tensor:
    h, w = plane.shape
    integral = _integral(plane)

    def bounds(size: int) -> tuple[Tensor, Tensor]:
        centre = torch.arange(size, device=plane.device)
        return (centre - window // 2).clamp(0, size), (centre + window - window // 2).clamp(0, size)

    y0, y1 = bounds(h)
    x0, x1 = bounds(w)
    total = (
        integral[y1[:, None], x1] - integral[y0[:, None], x1] - integral[y1[:, None], x0] + integral[y0[:, None], x0]
    )
    count = (y1 - y0)[:, None] * (x1 - x0)
    return total / count
