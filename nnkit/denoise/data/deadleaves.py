"""Synthetic "dead leaves" images: random overlapping shapes with power-law sizes, generated on the fly.

The dead-leaves model (Matheron; Lee, Mumford and Huang 2001) drops opaque shapes one after
another; with radii drawn from p(r) ∝ r^-3 the images are scale invariant like natural photos:
edges at every scale, large flat areas, small detail. Here each image is a stack of ellipses
and rotated rectangles of random colour (skewed towards dark tones, some saturated, some
grey); about half the shapes carry a texture (stripes of random frequency and direction) or a
shading gradient, the others are flat; about 60% of the images are blurred a little (defocus).

Vectorised with torch, no loop over shapes: shapes are grouped by the size of their bounding
box (a dozen groups), each group is tested against its boxes' pixels by broadcasting, and the
front-most shape of each pixel is found with ``scatter_reduce(amin)``. Pixels no shape covers take a
per-image background colour. Everything is drawn from the given generator, so a seed gives
the same images.

Used alone (``data="deadleaves"``, validation on fixed seeded crops) or mixed into the photo
sources (``dead_leaves_mix``: each training crop is a dead-leaves image with that probability).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

ALPHA = 3.0  # power-law exponent of the radii: p(r) ∝ r^-ALPHA (3 gives scale invariance; shapes_per_image assumes 3)
R_MIN = 2.0  # smallest radius, pixels: detail down to the pixel scale
COVER = 3.0  # shapes per image = COVER × area / mean shape area (uncovered fraction ≈ e^-COVER)
BLURRED = 0.6  # fraction of images blurred, by a Gaussian of σ in [0.3, 1.5] px
TEXTURED = 0.5  # fraction of shapes with stripes or shading
BLUR_RADIUS = 4
DRAWS = 15  # uniform draws per shape
CHUNK = 16  # images made at once: bounds the memory and keeps pair indices exact in float32


def _radii(u: Tensor, r_max: float) -> Tensor:
    """Inverse CDF of p(r) ∝ r^-ALPHA on [R_MIN, r_max] applied to uniform ``u``."""
    k = ALPHA - 1.0
    lo, hi = R_MIN**-k, r_max**-k
    return (lo - u * (lo - hi)) ** (-1.0 / k)


def shapes_per_image(size: int) -> int:
    """How many shapes make ``COVER`` layers on average over a size×size image and its margin."""
    r_max, margin = float(size), size / 4
    # E[r^2] for p(r) ∝ r^-3 on [R_MIN, r_max]; shapes have a mean aspect of about 0.67
    mean_r2 = math.log(r_max / R_MIN) / ((R_MIN**-2 - r_max**-2) / 2)
    mean_area = math.pi * 0.67 * mean_r2
    return max(8, math.ceil(COVER * (size + 2 * margin) ** 2 / mean_area))


def _colours(u: Tensor) -> Tensor:
    """RGB in [0, 1] from 4 uniform draws per colour: dark-skewed value, random saturation and hue."""
    value = u[..., 0] ** 1.3
    saturation = u[..., 1] ** 1.5 * 0.9
    hue = u[..., 2:3] * 6.0
    phase = torch.tensor([0.0, 2.0, 4.0], dtype=u.dtype)
    # a smooth hue wheel: each channel peaks 120° from the others
    wheel = (1.0 + torch.cos((hue - phase) * (math.pi / 3.0))) / 2.0
    colour = value[..., None] * (1.0 - saturation[..., None] * (1.0 - wheel))
    grey = u[..., 3] < 0.15  # some shapes exactly grey
    return torch.where(grey[..., None], value[..., None].expand_as(colour), colour)


def _blur(images: Tensor, sigma: Tensor) -> Tensor:
    """Separable Gaussian blur of N×3×H×W ``images``, σ per image (0 leaves an image as it was)."""
    offsets = torch.arange(-BLUR_RADIUS, BLUR_RADIUS + 1, dtype=images.dtype)
    weights = torch.exp(-0.5 * (offsets[None, :] / sigma.clamp(min=1e-3)[:, None]) ** 2)
    weights = torch.where(sigma[:, None] > 0, weights, (offsets[None, :] == 0).to(images.dtype))
    weights = weights / weights.sum(dim=1, keepdim=True)
    for axis in (2, 3):
        length = images.shape[axis]
        edge_lo = images.narrow(axis, 0, 1).expand_as(images.narrow(axis, 0, BLUR_RADIUS))
        edge_hi = images.narrow(axis, length - 1, 1).expand_as(edge_lo)
        padded = torch.cat([edge_lo, images, edge_hi], dim=axis)  # edges repeated
        out = torch.zeros_like(images)
        for k in range(2 * BLUR_RADIUS + 1):
            out.addcmul_(padded.narrow(axis, k, length), weights[:, k].view(-1, 1, 1, 1))
        images = out
    return images


def dead_leaves(count: int, size: int, generator: torch.Generator) -> Tensor:
    """``count`` dead-leaves images, float32 count×3×size×size in [0, 1], drawn from ``generator``."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    chunks = [_dead_leaves(min(CHUNK, count - i), size, generator) for i in range(0, count, CHUNK)]
    return torch.cat(chunks) if chunks else torch.empty(0, 3, size, size)


def _dead_leaves(count: int, size: int, generator: torch.Generator) -> Tensor:
    n = shapes_per_image(size)
    margin = size / 4
    u = torch.rand(count, n, DRAWS, generator=generator)
    per_image = torch.rand(count, 6, generator=generator)
    shapes = {
        "r": _radii(u[..., 0], float(size)),
        "cx": -margin + u[..., 1] * (size + 2 * margin),
        "cy": -margin + u[..., 2] * (size + 2 * margin),
        "ellipse": u[..., 3] < 0.6,
        "aspect": 0.35 + 0.65 * u[..., 4],
        "theta": u[..., 5] * math.pi,
    }
    front = _front_shapes(shapes, count, n, size)
    images = _paint(front, shapes, u, per_image, count, n, size)
    sigma = torch.where(per_image[:, 4] < BLURRED, 0.3 + 1.2 * per_image[:, 5], 0.0)
    return _blur(images, sigma).clamp_(0.0, 1.0)


def _box_sides(size: int) -> list[int]:
    """Square box sides the shapes are sorted into: 1, 2, 3, 5, 8, ... (×1.5) up to ``size``."""
    sides, side = [1], 2
    while side < size:
        sides.append(side)
        side = math.ceil(side * 1.5)
    return [*sides, size]


def _front_shapes(shapes: dict[str, Tensor], count: int, n: int, size: int) -> Tensor:
    """Index (0 = front) of the front-most shape at each pixel, count×size×size; n where none covers it.

    Each shape's bounding box (tight, clipped to the image) goes into the smallest square of
    ``_box_sides`` that holds it; per square side, all its shapes are tested against all the
    square's pixels at once (broadcasting, no per-pixel gather), and a ``scatter_reduce(amin)``
    keeps the front-most shape of each pixel. Pixels outside a shape or its box go to a sink slot.
    """
    a, b = shapes["r"], shapes["r"] * shapes["aspect"]
    cx, cy, ellipse = shapes["cx"], shapes["cy"], shapes["ellipse"]
    cos, sin = torch.cos(shapes["theta"]), torch.sin(shapes["theta"])
    half_x = torch.where(ellipse, torch.hypot(a * cos, b * sin), a * cos.abs() + b * sin.abs())
    half_y = torch.where(ellipse, torch.hypot(a * sin, b * cos), a * sin.abs() + b * cos.abs())
    x0, y0 = (cx - half_x).floor().clamp(0, size), (cy - half_y).floor().clamp(0, size)
    width = (((cx + half_x).floor() + 1).clamp(0, size) - x0).clamp(min=0)
    height = (((cy + half_y).floor() + 1).clamp(0, size) - y0).clamp(min=0)
    columns = [cx, cy, cos, sin, 1.0 / a, 1.0 / b, ellipse.float(), x0, y0, width, height]
    params = torch.stack([c.flatten() for c in columns], dim=1)
    side = torch.maximum(width, height).flatten()
    depth = torch.arange(n).repeat(count)
    image = torch.arange(count).repeat_interleave(n)
    sink = count * size * size
    front = torch.full((sink + 1,), n, dtype=torch.long)
    sides = _box_sides(size)
    for smaller, box in zip([0, *sides[:-1]], sides, strict=True):
        chosen = ((side > smaller) & (side <= box)).nonzero().squeeze(1)
        if chosen.numel() == 0:
            continue
        p = params[chosen].T[..., None, None]  # one column per row of p, shaped for broadcasting
        offsets = torch.arange(box, dtype=torch.float32)
        ox, oy = offsets.view(1, 1, box), offsets.view(1, box, 1)
        px, py = p[7] + ox, p[8] + oy
        dx, dy = px + 0.5 - p[0], py + 0.5 - p[1]
        along = (dx * p[2] + dy * p[3]) * p[4]  # in units of the shape's half axes
        across = (dy * p[2] - dx * p[3]) * p[5]
        in_ellipse = along * along + across * across <= 1.0
        inside = torch.where(p[6] > 0, in_ellipse, (along.abs() <= 1.0) & (across.abs() <= 1.0))
        inside &= (ox < p[9]) & (oy < p[10])
        pixel = (image[chosen].view(-1, 1, 1) * size + py.long()) * size + px.long()
        pixel = torch.where(inside, pixel, sink)
        front.scatter_reduce_(0, pixel.flatten(), depth[chosen].view(-1, 1, 1).expand_as(pixel).flatten(), "amin")
    return front[:sink].view(count, size, size)


def _paint(
    front: Tensor, shapes: dict[str, Tensor], u: Tensor, per_image: Tensor, count: int, n: int, size: int
) -> Tensor:
    """Each pixel in the colour of its front shape (index n: a flat background), textured: count×3×size×size."""

    def with_background(values: Tensor, background: float) -> Tensor:
        return torch.cat([values, torch.full((count, 1), background, dtype=values.dtype)], dim=1).flatten()

    index = (torch.arange(count)[:, None, None] * (n + 1) + front).flatten()
    colours = torch.cat([_colours(u[..., 6:10]), _colours(per_image[:, None, 0:4])], dim=1).view(-1, 3)
    amplitude = with_background(torch.where(u[..., 10] < TEXTURED, 0.05 + 0.35 * u[..., 11] ** 2, 0.0), 0.0)[index]
    frequency = with_background(0.02 + 0.4 * u[..., 12] ** 2, 0.0)[index]  # cycles per pixel
    stripes = with_background((u[..., 14] < 0.6).float(), 0.0)[index] > 0
    phi = with_background(u[..., 13] * math.tau, 0.0)[index]
    centre_x, centre_y = with_background(shapes["cx"], 0.0)[index], with_background(shapes["cy"], 0.0)[index]
    radius = with_background(shapes["r"], 1.0)[index]

    coords = torch.arange(size, dtype=torch.float32)
    ys = coords.view(1, size, 1).expand(count, size, size).flatten()
    xs = coords.view(1, 1, size).expand(count, size, size).flatten()
    cos_phi, sin_phi = torch.cos(phi), torch.sin(phi)
    wave = torch.sin(math.tau * frequency * (xs * cos_phi + ys * sin_phi))  # stripes across the shape
    ramp = (((xs - centre_x) * cos_phi + (ys - centre_y) * sin_phi) / radius).clamp(-1.0, 1.0)  # shading
    texture = amplitude * torch.where(stripes, wave, ramp)
    pixels = colours[index] * (1.0 + texture[:, None])
    return pixels.view(count, size, size, 3).permute(0, 3, 1, 2).clamp(0.0, 1.0).contiguous()


def leaf_draws(count: int, mix: float, generator: torch.Generator) -> Tensor:
    """Which of ``count`` training crops are dead leaves: each one with probability ``mix`` (bool mask)."""
    return torch.rand(count, generator=generator) < mix


def mixed_crops(
    photo_crops: Callable[[int, torch.Generator], Tensor], count: int, size: int, mix: float, generator: torch.Generator
) -> Tensor:
    """``count`` size×size crops: a ``mix`` share (drawn per crop) dead leaves, the others from ``photo_crops``."""
    leaves = leaf_draws(count, mix, generator)
    n_leaves = int(leaves.sum())
    crops = torch.empty(count, 3, size, size)
    if n_leaves < count:
        crops[~leaves] = photo_crops(count - n_leaves, generator)
    crops[leaves] = dead_leaves(n_leaves, size, generator)
    return crops
