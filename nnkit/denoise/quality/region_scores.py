"""Scores inside the regions where denoisers go wrong: flat and dark areas of the clean photo.

* **flat**: the clean luminance varies little around the pixel: its standard deviation over a
  ``FLAT_WINDOW``×``FLAT_WINDOW`` window is below ``FLAT_STD`` (sky, walls, blur);
* **dark**: the clean luminance (Rec. 601 weights) is below ``DARK_LUMA``.

In each region: the PSNR over its pixels (peak 1.0) and the colour bias, the mean signed error
per channel (denoised − clean). Clipping the noisy input to [0, 1] lifts dark areas (and
lowers bright ones); a denoiser that copies that shift shows a positive bias in dark regions.
``pooled`` sums several photos' regions pixel by pixel, so large photos weigh more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from nnkit.denoise.box_filter import box_mean
from nnkit.denoise.quality.photo_compare import photo_tensor

FLAT_STD = 0.01  # about 2.5 in 0-255 units
FLAT_WINDOW = 7
DARK_LUMA = 0.2
REGIONS = ("all", "flat", "dark")
_LUMA = (0.299, 0.587, 0.114)


def as_image(array: np.ndarray | Tensor) -> Tensor:
    """uint8 H×W×3 array (a photo) or float 3×H×W tensor in [0, 1] -> float64 3×H×W tensor."""
    if isinstance(array, np.ndarray):
        return photo_tensor(array, "photo")
    if array.ndim != 3 or array.shape[0] != 3:
        raise ValueError(f"expected a 3×H×W tensor, got shape {tuple(array.shape)}")
    return array.to(torch.float64)


def luminance(image: Tensor) -> Tensor:
    """H×W luminance of a 3×H×W image (Rec. 601 weights)."""
    return sum(w * image[c] for c, w in enumerate(_LUMA))  # type: ignore[return-value]


def flat_mask(clean: Tensor) -> Tensor:
    """Pixels whose clean luminance has a local standard deviation below FLAT_STD (bool H×W)."""
    grey = luminance(clean)
    mean = box_mean(grey, FLAT_WINDOW)
    variance = (box_mean(grey * grey, FLAT_WINDOW) - mean * mean).clamp(min=0.0)
    return variance.sqrt() < FLAT_STD


def dark_mask(clean: Tensor) -> Tensor:
    """Pixels whose clean luminance is below DARK_LUMA (bool H×W)."""
    return luminance(clean) < DARK_LUMA


@dataclass(frozen=True)
class RegionTotals:
    """Sums over one region's pixels, so that photos can be pooled: count, squared and signed errors."""

    pixels: int
    squared: float  # sum over pixels and channels of (pred - clean)^2
    signed: tuple[float, float, float]  # per channel, sum over pixels of (pred - clean)

    def __add__(self, other: RegionTotals) -> RegionTotals:
        signed = tuple(a + b for a, b in zip(self.signed, other.signed, strict=True))
        return RegionTotals(self.pixels + other.pixels, self.squared + other.squared, signed)  # type: ignore[arg-type]

    @property
    def psnr(self) -> float:
        """PSNR in dB over the region (peak 1.0); nan for an empty region, 100 for no error."""
        if self.pixels == 0:
            return math.nan
        mse = self.squared / (3 * self.pixels)
        return 100.0 if mse == 0 else -10.0 * math.log10(mse)

    @property
    def bias(self) -> tuple[float, float, float]:
        """Mean signed error per channel (R, G, B); nan for an empty region."""
        if self.pixels == 0:
            return (math.nan, math.nan, math.nan)
        return tuple(s / self.pixels for s in self.signed)  # type: ignore[return-value]


def region_totals(pred: np.ndarray | Tensor, clean: np.ndarray | Tensor) -> dict[str, RegionTotals]:
    """Totals of ``pred`` against ``clean`` over the whole image and its flat and dark regions."""
    p, c = as_image(pred), as_image(clean)
    if p.shape != c.shape:
        raise ValueError(f"prediction {tuple(p.shape)} and clean image {tuple(c.shape)} differ in shape")
    error = p - c
    masks = {"all": torch.ones(c.shape[1:], dtype=torch.bool), "flat": flat_mask(c), "dark": dark_mask(c)}
    totals = {}
    for name, mask in masks.items():
        inside = error[:, mask]
        signed = tuple(float(v) for v in inside.sum(dim=1))
        totals[name] = RegionTotals(int(mask.sum()), float((inside * inside).sum()), signed)  # type: ignore[arg-type]
    return totals


def pooled(per_photo: Iterable[dict[str, RegionTotals]]) -> dict[str, RegionTotals]:
    """Region totals of several photos added pixel by pixel."""
    result = {name: RegionTotals(0, 0.0, (0.0, 0.0, 0.0)) for name in REGIONS}
    for totals in per_photo:
        result = {name: result[name] + totals[name] for name in REGIONS}
    return result
