"""nnkit.denoise.quality.photo_compare: PSNR, SSIM and the difference image of two uint8 photos."""

from __future__ import annotations

import numpy as np
import pytest

from nnkit.denoise.quality.photo_compare import difference_image, psnr_db, quality, ssim


def noisy_pair(shape: tuple[int, int] = (40, 53), sigma: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)
    return clean, noisy


def test_ssim_and_psnr_match_scikit_image() -> None:
    metrics = pytest.importorskip("skimage.metrics")
    clean, noisy = noisy_pair()
    expected = metrics.structural_similarity(
        noisy, clean, channel_axis=2, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
    )
    assert ssim(noisy, clean) == pytest.approx(expected, abs=1e-9)  # the README's SSIM, not skimage's 7×7 default
    assert psnr_db(noisy, clean) == pytest.approx(metrics.peak_signal_noise_ratio(clean, noisy), abs=1e-9)


def test_identical_images_and_ordering() -> None:
    clean, noisy = noisy_pair()
    assert ssim(clean, clean) == pytest.approx(1.0)
    assert psnr_db(clean, clean) == 100.0
    _, noisier = noisy_pair(sigma=40.0)
    assert quality(noisier, clean).ssim < quality(noisy, clean).ssim < 1.0
    assert quality(noisier, clean).psnr_db < quality(noisy, clean).psnr_db


def test_bad_inputs_say_what_is_wrong() -> None:
    clean, _ = noisy_pair()
    with pytest.raises(ValueError, match="differ in size"):
        ssim(clean, clean[:20])
    with pytest.raises(ValueError, match="uint8"):
        psnr_db(clean.astype(np.float32), clean)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 11"):
        ssim(clean[:9, :9], clean[:9, :9])


def test_difference_is_grey_where_nothing_changed() -> None:
    clean, noisy = noisy_pair()
    assert np.all(difference_image(clean, clean) == 128)
    diff = difference_image(clean, noisy, gain=1.0)
    expected = np.clip(noisy.astype(int) - clean.astype(int) + 128, 0, 255)
    assert np.array_equal(diff, expected)
