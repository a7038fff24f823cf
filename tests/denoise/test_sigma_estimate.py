"""The noise-level estimator on images with Gaussian noise of known σ (clipped and 8-bit, like photos)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnkit.denoise.data import builtin_photos
from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.sigma_estimate import estimate_sigma


def smooth_image(seed: int, h: int = 96, w: int = 128) -> np.ndarray:
    """A smooth colour gradient with blobs, uint8 (flat areas, edges, dark corners)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    image = np.stack([xx, yy, 1 - xx * yy], axis=-1) * rng.uniform(0.3, 1.0, 3)
    for _ in range(4):
        (cy, cx), r = rng.uniform(0, 1, 2), rng.uniform(0.05, 0.2)
        image[(yy - cy) ** 2 + (xx - cx) ** 2 < r**2] = rng.uniform(0, 1, 3)
    return np.clip(np.rint(image * 255), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("sigma", [5.0, 15.0, 25.0, 50.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_images(sigma: float, seed: int) -> None:
    (noisy,) = with_noise([("smooth", smooth_image(seed))], "gaussian", sigma, seed=seed)
    assert estimate_sigma(noisy.noisy) == pytest.approx(sigma, abs=max(1.0, 0.08 * sigma))


@pytest.mark.parametrize("sigma", [10.0, 25.0, 40.0])
def test_photo(sigma: float) -> None:
    (photo,) = with_noise(builtin_photos("val")[:1], "gaussian", sigma)
    assert estimate_sigma(photo.noisy) == pytest.approx(sigma, abs=0.1 * sigma)


def test_clipping_in_dark_areas_is_corrected() -> None:
    """A mostly dark image: a plain MAD over all blocks underestimates; leaving out clipped blocks does not."""
    dark = np.full((128, 128, 3), 8, dtype=np.uint8)
    dark[:, 96:] = 128
    (noisy,) = with_noise([("dark", dark)], "gaussian", 30.0)
    assert estimate_sigma(noisy.noisy) == pytest.approx(30.0, abs=2.0)


def test_clean_image_is_low_and_float_input_agrees() -> None:
    image = smooth_image(3)
    assert estimate_sigma(image) < 2.0
    as_float = torch.from_numpy(image).permute(2, 0, 1).double() / 255
    assert estimate_sigma(as_float) == pytest.approx(estimate_sigma(image))


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="uint8"):
        estimate_sigma(np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="2×2"):
        estimate_sigma(np.zeros((1, 8, 3), dtype=np.uint8))
