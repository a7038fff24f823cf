"""The noise-level estimator on images with Gaussian noise of known σ (clipped and 8-bit, like photos)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.data import builtin_photos
from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.sigma_estimate import MAD_TO_SIGMA, MIN_BLOCKS, ImageTooSmall, estimate_sigma


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
    with pytest.raises(ImageTooSmall, match=r"8 × 1 pixels \(width × height\).* at least 2 × 2"):
        estimate_sigma(np.zeros((1, 8, 3), dtype=np.uint8))
    with pytest.raises(ImageTooSmall, match=r"1 × 50000 pixels"):
        estimate_sigma(np.zeros((50000, 1, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="strip_rows"):
        estimate_sigma(np.zeros((8, 8, 3), dtype=np.uint8), strip_rows=0)


def whole_image_sigma(x: torch.Tensor) -> float:
    """The estimator on the whole image at once (float64 (C, H, W) in [0, 1]), as it was before strips."""

    def mad_sigma(values: torch.Tensor) -> float:
        return float(values.abs().median()) * MAD_TO_SIGMA if values.numel() else 0.0

    a, b = x[:, :-1, :-1], x[:, :-1, 1:]
    c, d = x[:, 1:, :-1], x[:, 1:, 1:]
    detail = ((a - b) - (c - d)) / 2.0
    first = mad_sigma(detail)
    mean = (a + b + c + d) / 4.0
    inside = (mean > 2.0 * first) & (mean < 1.0 - 2.0 * first)
    return first * 255.0 if int(inside.sum()) < MIN_BLOCKS else mad_sigma(detail[inside]) * 255.0


@st.composite
def noisy_photos(draw: st.DrawFn) -> np.ndarray:
    """uint8 (H, W, C) images: a gradient with Gaussian noise, clipped; sizes not multiples of the strips."""
    h, w = draw(st.integers(2, 70)), draw(st.integers(2, 70))
    channels = draw(st.sampled_from([1, 3]))
    level, sigma = draw(st.floats(0.0, 255.0)), draw(st.floats(0.0, 80.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ramp = np.linspace(0.0, draw(st.floats(-255.0, 255.0)), w)[None, :, None]
    image = level + ramp + sigma * rng.standard_normal((h, w, channels))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@settings(max_examples=60, deadline=None)
@given(image=noisy_photos(), strip_rows=st.integers(1, 80))
def test_strips_give_the_whole_image_estimate(image: np.ndarray, strip_rows: int) -> None:
    """uint8 by counts, float by strips: both as the whole-image estimator, for any strip height."""
    as_float = torch.from_numpy(image).permute(2, 0, 1).double() / 255.0
    expected = whole_image_sigma(as_float)
    assert estimate_sigma(image, strip_rows=strip_rows) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert estimate_sigma(as_float, strip_rows=strip_rows) == expected  # the same float64 values: exact
