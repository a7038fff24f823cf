"""PSNR: per image, then the mean; pred clipped; identical images capped at 100 dB. SSIM equal to skimage's."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.quality.metrics import MAX_PSNR, psnr, psnr_per_image, ssim, ssim_per_image


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


# -- SSIM against scikit-image ----------------------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 2),
    h=st.integers(11, 40),
    w=st.integers(11, 40),
    noise=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
)
def test_ssim_matches_skimage(n: int, h: int, w: int, noise: float, seed: int) -> None:
    from skimage.metrics import structural_similarity

    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(n, 3, h, w, generator=g, dtype=torch.float64)
    pred = (clean + noise * torch.randn(n, 3, h, w, generator=g, dtype=torch.float64)).clamp(0, 1)
    expected = [
        structural_similarity(
            clean[i].permute(1, 2, 0).numpy(),
            pred[i].permute(1, 2, 0).numpy(),
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        for i in range(n)
    ]
    assert ssim_per_image(pred, clean) == pytest.approx(expected, abs=1e-9)
    assert ssim(pred, clean) == pytest.approx(sum(expected) / n, abs=1e-9)


def test_ssim_identical_is_one_and_small_images_refused() -> None:
    x = torch.rand(1, 3, 16, 16)
    assert ssim(x, x) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="11×11"):
        ssim(torch.rand(1, 3, 10, 30), torch.rand(1, 3, 10, 30))
