"""PSNR: per image, then the mean; pred clipped; identical images capped at 100 dB."""

from __future__ import annotations

import math

import pytest
import torch

from nnkit.denoise.metrics import MAX_PSNR, psnr, psnr_per_image


def test_known_value() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 0.1)
    assert psnr(pred, target) == pytest.approx(20.0)


def test_per_image_then_mean() -> None:
    target = torch.zeros(2, 3, 4, 4)
    pred = torch.stack([torch.full((3, 4, 4), 0.1), torch.full((3, 4, 4), 0.01)])
    assert psnr_per_image(pred, target) == pytest.approx([20.0, 40.0])
    assert psnr(pred, target) == pytest.approx(30.0)  # not the PSNR of the pooled MSE (~23 dB)


def test_single_image_and_clipping() -> None:
    target = torch.ones(3, 2, 2)
    assert psnr(torch.full((3, 2, 2), 7.0), target) == MAX_PSNR  # clipped to 1.0: identical
    assert psnr(torch.full((3, 2, 2), -1.0), torch.zeros(3, 2, 2)) == MAX_PSNR


def test_identical_is_capped_and_finite() -> None:
    x = torch.rand(2, 3, 5, 5)
    values = psnr_per_image(x, x)
    assert values == [MAX_PSNR, MAX_PSNR] and all(math.isfinite(v) for v in values)


def test_float64_and_mixed_dtypes() -> None:
    target = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    assert psnr(torch.full((1, 3, 2, 2), 0.1), target) == pytest.approx(20.0, abs=1e-5)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 4\).*\(1, 3, 4, 5\)"):
        psnr(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5))
    with pytest.raises(ValueError, match="expected"):
        psnr(torch.zeros(4, 4), torch.zeros(4, 4))
