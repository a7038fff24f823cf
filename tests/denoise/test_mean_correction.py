"""nnkit.denoise.mean_correction: the clipped-Gaussian mean, its slope, and the correction itself."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.box_filter import box_mean
from nnkit.denoise.mean_correction import EDGES, MIN_SLOPE, correct_means, expected_clipped, expected_clipped_slope


def test_expected_clipped_is_the_mean_of_clipped_gaussian_samples() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.tensor([0.0, 0.01, 0.05, 0.3, 0.5, 0.9, 0.99, 1.0], dtype=torch.float64)
    for sigma in (0.02, 0.1, 0.2):
        samples = (x[:, None] + sigma * torch.randn(len(x), 200_000, generator=g, dtype=torch.float64)).clamp(0, 1)
        assert torch.allclose(expected_clipped(x, sigma), samples.mean(dim=1), atol=4 * sigma / 447)  # 4 std errors


@settings(max_examples=30, deadline=None)
@given(x=st.floats(0.0, 1.0), sigma=st.floats(0.005, 0.3))
def test_slope_is_the_derivative(x: float, sigma: float) -> None:
    t = torch.tensor([x], dtype=torch.float64)
    h = 1e-6
    numeric = (expected_clipped(t + h, sigma) - expected_clipped(t - h, sigma)) / (2 * h)
    assert torch.allclose(expected_clipped_slope(t, sigma), numeric, atol=1e-6)


def _noisy(clean: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """Gaussian noise of ``sigma`` (0-255), clipped and stored as 8 bits, as the evaluation does."""
    g = torch.Generator().manual_seed(seed)
    noisy = (clean + sigma / 255 * torch.randn(clean.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    return noisy.mul(255).round().div(255)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_denoiser_that_copies_the_clipping_cast_is_corrected(seed: int) -> None:
    clean = torch.full((3, 192, 192), 0.02, dtype=torch.float64)  # dark, flat: clipping lifts it
    clean[1] = 0.5  # an unclipped channel
    clean[2, :, 96:] = 0.985  # bright half: clipping lowers it
    noisy = _noisy(clean, 40.0, seed)
    copied = noisy.mean(dim=(1, 2), keepdim=True).expand_as(noisy).clone()  # flat, with the clipped means
    copied[2, :, :96], copied[2, :, 96:] = noisy[2, :, :96].mean(), noisy[2, :, 96:].mean()
    # half a window or more from the edge between the halves: within it the two casts mix (documented)
    parts = [(0, slice(None)), (1, slice(None)), (2, slice(0, 80)), (2, slice(112, None))]

    def casts(image: torch.Tensor) -> list[float]:
        return [float((image - clean)[c, :, cols].mean()) for c, cols in parts]

    before, after = casts(copied), casts(correct_means(copied, noisy, 40.0))
    assert before[0] > 0.05 and before[2] > 0.05 and before[3] < -0.04  # dark lifted, bright lowered
    # what is left is the noise of window means: σ/32 over a slope of ~1/2 at 0 and 1, ≈ 0.01 a window
    assert max(abs(v) for v in after) < 0.008, after


def test_an_offset_of_the_model_is_removed_and_a_good_result_barely_moves() -> None:
    y, x = torch.meshgrid(torch.linspace(0.2, 0.8, 128), torch.linspace(0.2, 0.8, 128), indexing="ij")
    clean = torch.stack([y, x, (x + y) / 2]).to(torch.float64)  # smooth ramps, nothing clipped
    noisy = _noisy(clean, 25.0, 2)
    offset = clean + torch.tensor([0.01, -0.01, 0.005], dtype=torch.float64)[:, None, None]
    assert (correct_means(offset, noisy, 25.0) - clean).mean(dim=(1, 2)).abs().max() < 0.002
    moved = correct_means(clean, noisy, 25.0) - clean  # a perfect result gets only the window mean's noise
    assert moved.pow(2).mean().sqrt() < 2 * 25.0 / 255 / 32


@settings(max_examples=25, deadline=None)
@given(
    height=st.integers(1, 40), width=st.integers(1, 40), sigma=st.floats(0.0, 255.0), seed=st.integers(0, 999),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_any_size_and_level_gives_values_in_range_and_leaves_the_inputs(
    height: int, width: int, sigma: float, seed: int, dtype: torch.dtype
) -> None:
    g = torch.Generator().manual_seed(seed)
    denoised = torch.rand(3, height, width, generator=g, dtype=dtype)
    noisy = torch.rand(3, height, width, generator=g, dtype=dtype)
    kept = denoised.clone(), noisy.clone()
    out = correct_means(denoised, noisy, sigma)
    assert out.dtype == dtype and out.shape == denoised.shape
    assert bool(torch.isfinite(out).all()) and out.min() >= 0 and out.max() <= 1
    assert torch.equal(denoised, kept[0]) and torch.equal(noisy, kept[1])


@pytest.mark.parametrize("sigma", [-1.0, 300.0, float("nan"), float("inf"), True, "25"])
def test_bad_sigma_is_named(sigma: object) -> None:
    with pytest.raises(ValueError, match="sigma"):
        correct_means(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), sigma)  # type: ignore[arg-type]


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="shape"):
        correct_means(torch.zeros(3, 4, 4), torch.zeros(3, 4, 5), 10.0)


def whole_image_correction(
    denoised: torch.Tensor, noisy: torch.Tensor, sigma: float, window: int, steps: int
) -> torch.Tensor:
    """The correction on whole channels at once, as it was before strips."""
    s = max(sigma, 1e-3) / 255.0
    out = torch.empty_like(denoised)
    for channel in range(denoised.shape[0]):
        d = denoised[channel].to(torch.float64, copy=True)
        target = noisy[channel].to(torch.float64)
        for _ in range(steps):
            slope = box_mean(expected_clipped_slope(d, s), window, EDGES).clamp_(min=MIN_SLOPE)
            d = d.add_(box_mean(target - expected_clipped(d, s), window, EDGES).div_(slope)).clamp_(0.0, 1.0)
        out[channel] = d
    return out


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 90), width=st.integers(1, 30), strip_rows=st.integers(1, 50), window=st.integers(1, 20),
    steps=st.integers(1, 3), sigma=st.floats(0.0, 80.0), seed=st.integers(0, 999),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_strips_give_the_whole_image_correction(
    height: int, width: int, strip_rows: int, window: int, steps: int, sigma: float, seed: int, dtype: torch.dtype
) -> None:
    """Any strip height (dividing the height or not, above or below the window) gives the whole-image result."""
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(3, 1, 1, generator=g, dtype=torch.float64) * torch.linspace(0, 1, width, dtype=torch.float64)
    noisy = _noisy(clean.expand(3, height, width), sigma, seed).to(dtype)
    denoised = (clean + 0.05 * torch.randn(3, height, width, generator=g, dtype=torch.float64)).clamp(0, 1).to(dtype)
    strips = correct_means(denoised, noisy, sigma, window=window, steps=steps, strip_rows=strip_rows)
    whole = whole_image_correction(denoised, noisy, sigma, window, steps)
    tolerance = 1e-6 if dtype == torch.float32 else 1e-12  # float64 sums from another starting row; float32 rounding
    torch.testing.assert_close(strips, whole, rtol=0, atol=tolerance)


def test_bad_strip_rows_is_named() -> None:
    with pytest.raises(ValueError, match="strip_rows"):
        correct_means(torch.zeros(3, 4, 4), torch.zeros(3, 4, 4), 10.0, strip_rows=0)


def test_a_uint8_noisy_photo_gives_what_its_float_values_give() -> None:
    g = torch.Generator().manual_seed(0)
    photo = torch.randint(0, 256, (3, 70, 50), generator=g, dtype=torch.uint8)
    denoised = torch.rand(3, 70, 50, generator=g)
    as_float = photo.to(torch.float32).div(255.0)
    from_uint8 = correct_means(denoised, photo, 20.0, strip_rows=32)
    assert torch.equal(from_uint8, correct_means(denoised, as_float, 20.0, strip_rows=32))
