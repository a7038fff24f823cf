"""Region scores: the flat and dark masks, PSNR and colour bias inside them, pooling photos."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnkit.denoise.quality.region_scores import (
    DARK_LUMA,
    as_image,
    dark_mask,
    flat_mask,
    luminance,
    pooled,
    region_totals,
)


def test_masks_find_the_flat_and_the_dark_half() -> None:
    image = torch.full((3, 32, 64), 0.1, dtype=torch.float64)  # left: flat and dark
    noise = torch.rand(3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    image[:, :, 32:] = 0.5 + 0.5 * noise
    flat, dark = flat_mask(image), dark_mask(image)
    assert flat[:, :28].all() and not flat[:, 36:].any()
    assert dark[:, :32].all() and not dark[:, 32:].any()
    assert luminance(image)[0, 0] == pytest.approx(0.1) and DARK_LUMA > 0.1


def test_psnr_and_bias_inside_regions_and_pooled() -> None:
    clean = np.zeros((16, 16, 3), dtype=np.uint8)
    clean[:, 8:] = 200  # right half bright and flat, left half dark and flat
    pred = clean.copy()
    pred[:, :8, 0] += 10  # red raised in the dark half only
    totals = region_totals(pred, clean)
    assert totals["dark"].pixels == 128
    assert totals["flat"].pixels == 16 * (16 - 6)  # not flat: the 3 columns each side of the edge
    assert totals["dark"].bias == pytest.approx((10 / 255, 0.0, 0.0))
    assert totals["dark"].psnr == pytest.approx(-10 * math.log10((10 / 255) ** 2 / 3))
    assert totals["all"].bias[0] == pytest.approx(5 / 255)
    both = pooled([totals, region_totals(clean, clean)])
    assert both["dark"].pixels == 256 and both["dark"].bias[0] == pytest.approx(5 / 255)
    assert region_totals(clean, clean)["all"].psnr == 100.0
    empty = region_totals(np.full((8, 8, 3), 255, np.uint8), np.full((8, 8, 3), 255, np.uint8))["dark"]
    assert empty.pixels == 0 and math.isnan(empty.psnr)
    with pytest.raises(ValueError, match="uint8"):
        as_image(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="differ"):
        region_totals(clean, clean[:8])
