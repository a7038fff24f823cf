"""Camera noise: what a sensor and its processing do to a clean sRGB photo (Brooks et al. 2019).

The chain, each step a function here:

1. sRGB → linear light (the inverse sRGB curve), optionally into a camera's colour space
   (``rgb_to_cam``, a 3×3 matrix);
2. Poisson–Gaussian sensor noise, variance ``a·x + b`` in linear [0, 1] units:
   ``a·Poisson(x/a) + √b·N(0, 1)`` (shot noise from photon counting, read noise from the
   electronics), with (a, b) per image, or per image and channel;
3. an RGGB Bayer mosaic (each pixel keeps one colour) and a bilinear demosaic, which spreads
   each noisy sample over its neighbours: the noise is no longer independent from pixel to pixel.
   Only the noise goes through it (demosaicing is linear): the clean photo stands for what the
   camera would have made of a noiseless scene, so it stays the exact reference;
4. back to sRGB (inverse colour matrix, sRGB curve), and optionally JPEG at a given quality.

(a, b) come from ``brooks_levels`` (sampled as in Brooks et al., "Unprocessing images for
learned raw denoising", CVPR 2019) or from measured camera profiles (darktable's
``noiseprofiles.json``, gathered by ``scripts/gather_noise_profiles.py``: ``profile_levels``).
In Brooks' code (``unprocess.random_noise_levels`` / ``add_noise``) the "read noise" is added to
the *variance* (``variance = image * shot_noise + read_noise``): it is b here, not a std.
darktable's profiles use the same model (variance = a·x + b, x in [0, 1]).

Every random draw comes from the ``torch.Generator`` passed in. Results stay unclipped floats
(the sRGB curve is extended oddly below 0), except after JPEG, which quantises to 8 bits.
Noise2Noise note: the noise is zero-mean in linear light, not after the sRGB curve, so the mean
of noisy sRGB targets is slightly off the clean photo where the noise is strong in the dark.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch

BROOKS_SHOT_RANGE = (1e-4, 1.2e-2)  # a, log-uniform
BROOKS_READ_LINE = (2.18, 1.20, 0.26)  # log b = slope·log a + intercept + N(0, std²)
# Bilinear demosaic kernels (normalised convolution, so borders need no special case).
_GREEN_KERNEL = ((0.0, 1.0, 0.0), (1.0, 4.0, 1.0), (0.0, 1.0, 0.0))
_RED_BLUE_KERNEL = ((1.0, 2.0, 1.0), (2.0, 4.0, 2.0), (1.0, 2.0, 1.0))


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """The inverse sRGB curve, extended oddly below 0 (so noisy values need no clipping)."""
    a = x.abs()
    lin = torch.where(a <= 0.04045, a / 12.92, ((a + 0.055) / 1.055) ** 2.4)
    return lin.copysign(x)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """The sRGB curve, extended oddly below 0."""
    a = x.abs()
    out = torch.where(a <= 0.0031308, a * 12.92, 1.055 * a.clamp(min=1e-12) ** (1 / 2.4) - 0.055)
    return out.copysign(x)


def brooks_levels(
    count: int, generator: torch.Generator, shot_range: tuple[float, float] = BROOKS_SHOT_RANGE
) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b), each (count,) float64: a log-uniform in ``shot_range``, log b on Brooks' line plus N(0, 0.26²)."""
    low, high = shot_range
    if not 0 < low <= high:
        raise ValueError(f"shot noise range must satisfy 0 < low <= high, got {shot_range!r}")
    u = torch.rand(count, generator=generator, dtype=torch.float64)
    log_a = math.log(low) + u * (math.log(high) - math.log(low))
    return log_a.exp(), read_variance(log_a.exp(), generator)


def read_variance(a: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Brooks' read-noise variance b for each shot-noise a: exp(2.18·log a + 1.20 + N(0, 0.26²))."""
    slope, intercept, std = BROOKS_READ_LINE
    jitter = torch.randn(a.shape, generator=generator, dtype=torch.float64) * std
    return (slope * a.log() + intercept + jitter).exp()


def profile_levels(
    profiles: torch.Tensor, count: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(a, b), each (count, 3): rows of ``profiles`` ((P, 6): a_r, a_g, a_b, b_r, b_g, b_b) drawn uniformly."""
    if profiles.dim() != 2 or profiles.shape[1] != 6 or profiles.shape[0] == 0:
        raise ValueError(f"profiles must be a non-empty (P, 6) tensor of a_rgb, b_rgb; got {tuple(profiles.shape)}")
    rows = profiles[torch.randint(profiles.shape[0], (count,), generator=generator)].to(torch.float64)
    return rows[:, :3], rows[:, 3:]


def load_profiles(
    path: str | Path, split: str, iso_range: tuple[float, float] = (0.0, math.inf)
) -> torch.Tensor:
    """The (P, 6) table (a_rgb, b_rgb) of the ``split`` cameras' profiles with ISO in ``iso_range`` (low inclusive),
    from a file written by ``scripts/gather_noise_profiles.py``; ValueError naming the file when none match."""
    import json

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    low, high = iso_range
    rows = [p["a"] + p["b"] for p in data["profiles"] if p["split"] == split and low <= p["iso"] < high]
    if not rows:
        raise ValueError(f"{path}: no {split} camera profile with ISO in [{low:g}, {high:g})")
    return torch.tensor(rows, dtype=torch.float64)


def _per_image(value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(N,) or (N, C) parameters as (N, 1|C, 1, 1) in ``x``'s dtype and device."""
    if value.dim() not in (1, 2) or value.shape[0] != x.shape[0]:
        raise ValueError(f"noise parameters must be (N,) or (N, C) for {x.shape[0]} images, got {tuple(value.shape)}")
    value = value.to(device=x.device, dtype=x.dtype)
    return value.view(value.shape[0], -1, 1, 1)


def poisson_gaussian(
    linear: torch.Tensor, a: torch.Tensor, b: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """a·Poisson(x/a) + √b·N(0, 1) for (N, C, H, W) linear images: mean x, variance a·x + b (x ≥ 0)."""
    a4, b4 = _per_image(a, linear), _per_image(b, linear)
    if bool((a4 <= 0).any()) or bool((b4 < 0).any()):
        raise ValueError("shot noise a must be > 0 and read noise b >= 0")
    rate = (linear.clamp(min=0.0) / a4).to(torch.float64)
    shot = torch.poisson(rate, generator=generator).to(linear.dtype) * a4
    read = torch.randn(linear.shape, generator=generator, dtype=linear.dtype, device=linear.device)
    return shot + read * b4.sqrt()


def bayer_masks(height: int, width: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(3, H, W) 0/1 masks of the RGGB pattern: R at (even, even), G at (even, odd) and (odd, even), B at (odd, odd)."""
    y = torch.arange(height).view(-1, 1) % 2
    x = torch.arange(width).view(1, -1) % 2
    red = (y == 0) & (x == 0)
    blue = (y == 1) & (x == 1)
    return torch.stack([red, ~(red | blue), blue]).to(dtype)


def mosaic(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) → the (N, H, W) RGGB raw image (each pixel keeps the one colour its filter passes)."""
    masks = bayer_masks(image.shape[-2], image.shape[-1], image.dtype).to(image.device)
    return (image * masks).sum(dim=1)


def _conv3x3(x: torch.Tensor, kernel: tuple[tuple[float, ...], ...]) -> torch.Tensor:
    """Zero-padded 3×3 correlation of (..., H, W) with ``kernel``, by shifted sums (plain tensor ops)."""
    h, w = x.shape[-2:]
    padded = torch.zeros(*x.shape[:-2], h + 2, w + 2, dtype=x.dtype, device=x.device)
    padded[..., 1:-1, 1:-1] = x
    out = torch.zeros_like(x)
    for i in range(3):
        for j in range(3):
            if kernel[i][j]:
                out += kernel[i][j] * padded[..., i : i + h, j : j + w]
    return out


def demosaic_bilinear(raw: torch.Tensor) -> torch.Tensor:
    """(N, H, W) RGGB raw → (N, 3, H, W): each missing colour the mean of its nearest samples.

    Needs at least 2×2 pixels: every pixel's 3×3 neighbourhood then holds each colour.
    """
    if raw.shape[-2] < 2 or raw.shape[-1] < 2:
        raise ValueError(f"a Bayer image needs at least 2x2 pixels to demosaic, got {tuple(raw.shape[-2:])}")
    masks = bayer_masks(raw.shape[-2], raw.shape[-1], raw.dtype).to(raw.device)
    channels = []
    for c, kernel in enumerate((_RED_BLUE_KERNEL, _GREEN_KERNEL, _RED_BLUE_KERNEL)):
        channels.append(_conv3x3(raw * masks[c], kernel) / _conv3x3(masks[c], kernel))
    return torch.stack(channels, dim=1)


def jpeg(images: torch.Tensor, qualities: list[int]) -> torch.Tensor:
    """Each (3, H, W) image of ``images`` through an 8-bit JPEG at its quality (Pillow, CPU), as floats in [0, 1]."""
    from PIL import Image

    out = torch.empty_like(images)
    for i, quality in enumerate(qualities):
        u8 = images[i].detach().clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        buffer = io.BytesIO()
        Image.fromarray(u8).save(buffer, format="JPEG", quality=int(quality))
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        out[i] = torch.from_numpy(decoded.copy()).permute(2, 0, 1).to(images.dtype).div(255.0)
    return out


def draw_jpeg_qualities(count: int, generator: torch.Generator, low: int = 60, high: int = 95) -> list[int]:
    """``count`` JPEG qualities drawn uniformly from the integers in [low, high]."""
    return torch.randint(low, high + 1, (count,), generator=generator).tolist()


def camera_noise(
    clean: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    generator: torch.Generator,
    *,
    rgb_to_cam: torch.Tensor | None = None,
    jpeg_qualities: list[int] | None = None,
) -> torch.Tensor:
    """Clean sRGB (N, 3, H, W) in [0, 1] → the photo a camera with noise (a, b) would give (see the module)."""
    if clean.dim() != 4 or clean.shape[1] != 3 or not clean.is_floating_point():
        raise ValueError(f"clean images must be a float (N, 3, H, W) tensor, got {clean.dtype} {tuple(clean.shape)}")
    linear = srgb_to_linear(clean)
    if rgb_to_cam is not None:
        linear = torch.einsum("ij,njhw->nihw", rgb_to_cam.to(linear), linear)
    # Demosaicing is linear: mosaic and demosaic the noise alone, so the clean photo stays the reference
    # (the photo stands for what the camera's demosaic would have made of a noiseless scene).
    noise = poisson_gaussian(linear, a, b, generator) - linear
    rgb = linear + demosaic_bilinear(mosaic(noise))
    if rgb_to_cam is not None:
        rgb = torch.einsum("ij,njhw->nihw", torch.linalg.inv(rgb_to_cam.to(torch.float64)).to(rgb), rgb)
    out = linear_to_srgb(rgb)
    return jpeg(out, jpeg_qualities) if jpeg_qualities is not None else out
