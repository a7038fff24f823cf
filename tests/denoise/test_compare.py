"""nnkit.denoise.compare (PSNR, SSIM, difference) and the tile callback of tiled inference (progressive results)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nnkit.denoise.compare import difference_image, psnr_db, quality, ssim
from nnkit.denoise.config import RunConfig
from nnkit.denoise.inference import denoise_array
from nnkit.denoise.models import build_model
from nnkit.denoise.progressive import ProgressiveResult


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


def test_tiles_are_reported_as_they_are_computed_and_cover_the_image() -> None:
    torch.manual_seed(0)
    model = build_model(RunConfig(arch="report", width=4))
    _, image = noisy_pair((70, 150))
    progressive = ProgressiveResult(image)
    covered = np.zeros(image.shape[:2], bool)
    calls: list[tuple[int, int]] = []

    def on_tile(top: int, left: int, tile: torch.Tensor) -> None:
        calls.append((top, left))
        covered[top : top + tile.shape[1], left : left + tile.shape[2]] = True
        progressive.paste(top, left, tile)

    result = denoise_array(model, image, tile=64, overlap=16, on_tile=on_tile, progress=progressive.progress)
    assert len(calls) == progressive.total == progressive.done > 1 and covered.all()
    assert progressive.eta_s() == 0.0
    assert not np.array_equal(progressive.canvas, image)
    one_tile = ProgressiveResult(image[:60, :60])
    whole = denoise_array(model, image[:60, :60], tile=64, on_tile=one_tile.paste)
    assert np.array_equal(one_tile.canvas, whole)  # a single tile is the final result itself
    assert result.shape == image.shape and math.isnan(ProgressiveResult(image).eta_s())
