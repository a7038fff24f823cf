"""The noise-level estimator on images with Gaussian noise of known σ (clipped and 8-bit, like photos), on
clean fine texture (read as no noise), and strip by strip against a whole-image version of the same method."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.data import builtin_photos
from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.sigma_estimate import (
    FLOOR_BLOCKS,
    MAD_TO_SIGMA,
    MARGIN_BANDS,
    MIN_BLOCKS,
    TEXTURE_BINS_PER_OCTAVE,
    TEXTURE_FLOOR,
    ImageTooSmall,
    estimate_sigma,
)


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


def gradient_image(h: int, w: int, level: float, slope: float) -> np.ndarray:
    """A float (H, W, 3) horizontal ramp from ``level``, rising ``slope`` over the width (0-255 units)."""
    ramp = level + np.linspace(0.0, slope, w)[None, :, None]
    return np.broadcast_to(ramp, (h, w, 3)).astype(np.float64)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def as_float(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1).double() / 255.0


@settings(max_examples=25, deadline=None)
@given(
    sigma=st.floats(1.0, 30.0),
    level=st.floats(0.0, 1.0),
    slope=st.floats(-120.0, 120.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_gaussian_noise_on_flat_and_gradient_images(sigma: float, level: float, slope: float, seed: int) -> None:
    """Pure noise on a flat or smooth image: σ within sampling error (choosing weakly textured blocks by
    their neighbours' details does not bias the median), and uint8 and float input agree."""
    low = 3.0 * sigma + max(0.0, -slope)  # no clipping: the ramp stays 3σ inside [0, 255]
    high = 255.0 - 3.0 * sigma - max(0.0, slope)
    if high < low:
        slope = 0.0
        low, high = 3.0 * sigma, 255.0 - 3.0 * sigma
    clean = gradient_image(128, 160, low + level * (high - low), slope)
    image = to_uint8(clean + sigma * np.random.default_rng(seed).standard_normal(clean.shape))
    estimate = estimate_sigma(image)
    assert estimate == pytest.approx(sigma, rel=0.06, abs=0.15)
    assert estimate_sigma(as_float(image)) == pytest.approx(estimate, rel=1e-9)


@pytest.mark.parametrize("sigma", [2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5])
def test_estimate_is_not_quantised(sigma: float) -> None:
    """8-bit details are integers; the median is interpolated, so σ̂ follows σ between the old 0.74 steps."""
    clean = gradient_image(400, 400, 60.0, 100.0)
    image = to_uint8(clean + sigma * np.random.default_rng(0).standard_normal(clean.shape))
    assert estimate_sigma(image) == pytest.approx(sigma, abs=0.06)


def test_small_photo_does_not_stall_low() -> None:
    """A 48×64 photo has ~2000 blocks: σ climbing from the weakest-textured 1% (20 blocks) could stop at
    0.7σ; starting from at least FLOOR_BLOCKS blocks it does not (before: up to −5.5 at σ 20 in 40 draws)."""
    flat = np.full((48, 64, 3), 120, dtype=np.uint8)
    errors = [
        estimate_sigma(with_noise([("flat", flat)], "gaussian", 20.0, seed=seed)[0].noisy) - 20.0 for seed in range(40)
    ]
    assert max(abs(e) for e in errors) < 2.0
    assert abs(float(np.mean(errors))) < 0.4


def pattern(kind: str, period: int, h: int, w: int) -> np.ndarray:
    """A 0/1 (H, W) pattern: vertical or horizontal stripes, or a checkerboard, of cells ``period`` wide."""
    yy, xx = np.mgrid[0:h, 0:w] // period
    return {"stripes": xx % 2, "bars": yy % 2, "checker": (xx + yy) % 2}[kind].astype(np.float64)


def textured_photo(kind: str, period: int, contrast: float, share: float, seed: int) -> np.ndarray:
    """A clean float (H, W, 3) image: a fine high-contrast pattern over ``share`` of its width, a smooth
    coloured ramp over the rest."""
    h, w = 96, 160
    rng = np.random.default_rng(seed)
    image = gradient_image(h, w, 60.0, 80.0) * rng.uniform(0.5, 1.0, 3)
    edge = round(share * w)
    texture = pattern(kind, period, h, edge)[:, :, None] * contrast * rng.uniform(0.6, 1.0, 3)
    image[:, :edge] = 40.0 + texture
    return image


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["stripes", "bars", "checker"]),
    period=st.integers(1, 6),
    contrast=st.floats(60.0, 200.0),
    share=st.floats(0.5, 0.8),
    seed=st.integers(0, 2**32 - 1),
)
def test_clean_fine_texture_is_not_noise(kind: str, period: int, contrast: float, share: float, seed: int) -> None:
    """Most of the photo a fine high-contrast pattern, the rest smooth: clean, so σ̂ near 0 (the estimator
    before issue 21 read a 1-pixel checkerboard over 60% of the photo as σ ≈ 100)."""
    image = to_uint8(textured_photo(kind, period, contrast, share, seed))
    assert estimate_sigma(image) < 0.6


@pytest.mark.parametrize("sigma", [5.0, 10.0])
def test_noise_on_fine_texture(sigma: float) -> None:
    """Light noise on a photo that is 70% fine checkerboard: σ, not σ plus the texture."""
    clean = textured_photo("checker", 2, 120.0, 0.7, 0)
    image = to_uint8(clean + sigma * np.random.default_rng(1).standard_normal(clean.shape))
    assert estimate_sigma(image) == pytest.approx(sigma, rel=0.08)


def interpolated_sigma(details: np.ndarray) -> float:
    """σ (0-255) from integer |a - b - c + d| values: their median, each n spread over [n - ½, n + ½]."""
    values = np.sort(details.ravel())
    if values.size == 0:
        return 0.0
    n = int(values[(values.size - 1) // 2]) if values.size % 2 else None
    half = values.size / 2.0
    n = int(values[int(np.ceil(half)) - 1]) if n is None else n
    below, at = int((values < n).sum()), int((values == n).sum())
    if below + at < half:  # the half-way point is the last value of bin n: the next bin starts there
        n = int(values[below + at])
        below, at = int((values < n).sum()), int((values == n).sum())
    low, width = (0.0, 0.5) if n == 0 else (n - 0.5, 1.0)
    return (low + width * (half - below) / at) / 2.0 * MAD_TO_SIGMA


def whole_image_sigma(x: torch.Tensor) -> float:
    """The estimator on the whole image at once (float64 (C, H, W) in [0, 1]): every block's coefficients
    and texture energy in memory, no strips and no tables of counts."""
    v = x.numpy() * 255.0
    v = v[:, : v.shape[1] // 2 * 2, : v.shape[2] // 2 * 2]
    a, b, c, d = v[:, 0::2, 0::2], v[:, 0::2, 1::2], v[:, 1::2, 0::2], v[:, 1::2, 1::2]
    total, diagonal = np.clip(np.rint(a + b + c + d), 0, 1020), a - b - c + d
    details = np.clip(np.rint(np.abs(diagonal)), 0, 510).astype(np.int64)
    first = interpolated_sigma(details)
    inside = (total / 4.0 > 2.0 * first) & (total / 4.0 < 255.0 - 2.0 * first)
    plain = interpolated_sigma(details[inside]) if inside.sum() >= MIN_BLOCKS else first
    energy = ((a - b + c - d) ** 2 + (a + b - c - d) ** 2 + diagonal**2).sum(0)
    rows, cols = energy.shape
    if rows < 3 or cols < 3:
        return plain
    box = sum(energy[i : rows - 2 + i, j : cols - 2 + j] for i in range(3) for j in range(3))
    texture = box - (diagonal**2).sum(0)[1:-1, 1:-1]
    octave = TEXTURE_BINS_PER_OCTAVE
    shift = -np.floor(octave * np.log2(0.75))
    bins = np.broadcast_to(np.floor(octave * np.log2(texture + 0.75)) + shift, details[:, 1:-1, 1:-1].shape)
    distance = np.minimum(total, 1020 - total)[:, 1:-1, 1:-1]
    details = details[:, 1:-1, 1:-1]
    k = 26 * x.shape[0]
    chi2_median = k * (1 - 2 / (9 * k)) ** 3

    def weak_texture(kept: np.ndarray) -> float:
        chosen_bins, chosen = bins[kept], details[kept]
        share = max(TEXTURE_FLOOR * chosen_bins.size, FLOOR_BLOCKS)
        floor = np.sort(chosen_bins)[min(int(np.ceil(share)), chosen_bins.size) - 1]
        sigma = interpolated_sigma(chosen[chosen_bins <= floor])
        for _ in range(64):
            threshold = max(np.floor(octave * np.log2(4 * chi2_median * sigma**2 + 0.75)) + shift, floor)
            new = interpolated_sigma(chosen[chosen_bins <= threshold])
            if new == sigma:
                break
            sigma = new
        return sigma

    if (distance >= 1).sum() < MIN_BLOCKS:
        return plain
    sigma = weak_texture(distance >= 1)
    for _ in range(64):  # the clipping margin, 2σ rounded down to a band's edge, to a fixed point
        kept = distance >= max(1, max(edge for edge in MARGIN_BANDS if edge <= 8.0 * sigma))
        if kept.sum() < MIN_BLOCKS:
            break
        new = weak_texture(kept)
        if new == sigma:
            break
        sigma = new
    return sigma


@st.composite
def noisy_photos(draw: st.DrawFn) -> np.ndarray:
    """uint8 (H, W, C) images: a gradient with Gaussian noise, clipped, with a patch of texture; sizes not
    multiples of the strips, from too small for the texture pass (fewer than MIN_BLOCKS blocks) up."""
    h, w = draw(st.integers(2, 90)), draw(st.integers(2, 90))
    channels = draw(st.sampled_from([1, 3]))
    level, sigma = draw(st.floats(0.0, 255.0)), draw(st.floats(0.0, 80.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ramp = np.linspace(0.0, draw(st.floats(-255.0, 255.0)), w)[None, :, None]
    image = level + ramp + sigma * rng.standard_normal((h, w, channels))
    image[: h // 2, : w // 3] += (
        draw(st.floats(0.0, 200.0)) * pattern("checker", draw(st.integers(1, 4)), h // 2, w // 3)[:, :, None]
    )
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


@settings(max_examples=80, deadline=None)
@given(image=noisy_photos(), strip_rows=st.integers(1, 50))
def test_strips_give_the_whole_image_estimate(image: np.ndarray, strip_rows: int) -> None:
    """uint8 and float, strip by strip into tables of counts: both as the whole-image estimator, for any
    strip height."""
    x = as_float(image)
    expected = whole_image_sigma(x)
    assert estimate_sigma(image, strip_rows=strip_rows) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert estimate_sigma(x, strip_rows=strip_rows) == pytest.approx(expected, rel=1e-12, abs=1e-12)
