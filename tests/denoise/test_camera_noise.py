"""Camera noise: variance against a·x + b, correlation after demosaicing, determinism, the chain's pieces."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.camera_noise import (
    bayer_masks,
    brooks_levels,
    camera_noise,
    demosaic_bilinear,
    draw_jpeg_qualities,
    jpeg,
    linear_to_srgb,
    mosaic,
    poisson_gaussian,
    profile_levels,
    srgb_to_linear,
)
from nnkit.denoise.noise import add_noise, draw_levels


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("x", [0.0, 0.02, 0.2, 0.7])
@pytest.mark.parametrize(("a", "b"), [(1e-4, 2e-6), (1.2e-2, 1e-3), (3e-3, 0.0)])
def test_poisson_gaussian_has_mean_x_and_variance_ax_plus_b(x: float, a: float, b: float) -> None:
    n = 200_000
    linear = torch.full((1, 1, 1, n), x, dtype=torch.float64)
    out = poisson_gaussian(linear, torch.tensor([a]), torch.tensor([b]), _gen(1))
    var = a * x + b
    # sample mean within 5 standard errors; sample variance within 5 of its standard errors (~√(2/n)·var,
    # wider for Poisson's excess kurtosis at few photons, hence the generous factor)
    assert abs(float(out.mean()) - x) <= 5 * math.sqrt(var / n) + 1e-12
    assert float(out.var()) == pytest.approx(var, rel=0.05, abs=1e-12)


def test_per_channel_parameters_give_each_channel_its_own_variance() -> None:
    n = 100_000
    linear = torch.full((1, 3, 1, n), 0.3, dtype=torch.float64)
    a = torch.tensor([[1e-3, 4e-3, 1e-2]])
    b = torch.tensor([[1e-5, 1e-4, 1e-3]])
    out = poisson_gaussian(linear, a, b, _gen(2))
    for c in range(3):
        assert float(out[0, c].var()) == pytest.approx(float(a[0, c] * 0.3 + b[0, c]), rel=0.05)


def _neighbour_correlation(noise: torch.Tensor) -> float:
    """Correlation of horizontally adjacent noise values (all channels, all rows)."""
    left, right = noise[..., :-1].flatten(), noise[..., 1:].flatten()
    return float(torch.corrcoef(torch.stack([left, right]))[0, 1])


def test_demosaiced_noise_is_correlated_between_neighbours_and_gaussian_is_not() -> None:
    clean = torch.full((2, 3, 64, 64), 0.5, dtype=torch.float64)
    a = torch.full((2,), 5e-3, dtype=torch.float64)
    b = torch.full((2,), 1e-4, dtype=torch.float64)
    camera = camera_noise(clean, a, b, _gen(3)) - clean
    gaussian = add_noise(clean, "gaussian", 25.0, _gen(3)) - clean
    assert _neighbour_correlation(camera) > 0.2
    assert abs(_neighbour_correlation(gaussian)) < 0.03


def test_same_seed_same_noise_other_seed_other_noise() -> None:
    clean = torch.rand(2, 3, 16, 16, generator=_gen(4), dtype=torch.float64)
    a, b = brooks_levels(2, _gen(5))
    q = draw_jpeg_qualities(2, _gen(6))
    first = camera_noise(clean, a, b, _gen(7), jpeg_qualities=q)
    again = camera_noise(clean, a, b, _gen(7), jpeg_qualities=q)
    other = camera_noise(clean, a, b, _gen(8), jpeg_qualities=q)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert torch.equal(add_noise(clean, "camera", 4.0, _gen(9)), add_noise(clean, "camera", 4.0, _gen(9)))


def test_brooks_levels_follow_the_published_ranges() -> None:
    a, b = brooks_levels(20_000, _gen(10))
    assert float(a.min()) >= 1e-4 and float(a.max()) <= 1.2e-2
    # log a uniform: its mean is the middle of the log range
    assert float(a.log().mean()) == pytest.approx((math.log(1e-4) + math.log(1.2e-2)) / 2, abs=0.05)
    residual = b.log() - (2.18 * a.log() + 1.20)
    assert float(residual.mean()) == pytest.approx(0.0, abs=0.01)
    assert float(residual.std()) == pytest.approx(0.26, rel=0.05)


def test_camera_levels_draw_log_uniformly_and_level_zero_is_clean() -> None:
    levels = draw_levels("camera", 0.1, 12.0, 20_000, _gen(11))
    assert float(levels.min()) >= 0.1 and float(levels.max()) <= 12.0
    assert float(levels.log().mean()) == pytest.approx((math.log(0.1) + math.log(12.0)) / 2, abs=0.05)
    clean = torch.rand(1, 3, 8, 8, generator=_gen(12))
    assert torch.equal(add_noise(clean, "camera", 0.0, _gen(13)), clean)


def test_camera_noise_is_signal_dependent() -> None:
    """Brighter areas get more noise in linear light, so the sRGB noise is not one σ everywhere."""
    dark = torch.full((1, 3, 64, 64), 0.1, dtype=torch.float64)
    out = add_noise(torch.cat([dark, dark + 0.8]), "camera", 10.0, _gen(14))
    lin_dark, lin_bright = srgb_to_linear(out[0]), srgb_to_linear(out[1])
    assert float(lin_bright.var()) > 3 * float(lin_dark.var())


@given(st.floats(-0.5, 1.5, allow_nan=False))
def test_srgb_curve_round_trips(value: float) -> None:
    x = torch.tensor([value], dtype=torch.float64)
    assert float(linear_to_srgb(srgb_to_linear(x))) == pytest.approx(value, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.integers(2, 9), st.integers(2, 9))
def test_demosaic_keeps_every_measured_sample_and_a_flat_image(height: int, width: int) -> None:
    image = torch.rand(1, 3, height, width, generator=_gen(height * 10 + width), dtype=torch.float64)
    raw = mosaic(image)
    rgb = demosaic_bilinear(raw)
    masks = bayer_masks(height, width, torch.float64)
    assert torch.allclose((rgb[0] * masks), (image[0] * masks))
    flat = torch.full((1, 3, height, width), 0.25, dtype=torch.float64)
    assert torch.allclose(demosaic_bilinear(mosaic(flat)), flat)


def test_demosaic_refuses_an_image_without_every_colour() -> None:
    with pytest.raises(ValueError, match="2x2"):
        demosaic_bilinear(torch.zeros(1, 1, 5))


def test_bilinear_demosaic_interpolates_a_linear_ramp_inside() -> None:
    ramp = torch.linspace(0, 1, 12, dtype=torch.float64).view(1, 1, 1, 12).expand(1, 3, 10, 12)
    rgb = demosaic_bilinear(mosaic(ramp))
    assert torch.allclose(rgb[..., 1:-1, 1:-1], ramp[..., 1:-1, 1:-1])


def test_jpeg_quantises_and_high_quality_stays_closer() -> None:
    ramp = torch.linspace(0.2, 0.8, 32).view(1, 1, 1, 32).expand(1, 3, 32, 32)
    clean = ramp * torch.tensor([1.0, 0.8, 0.6]).view(1, 3, 1, 1)
    noisy = clean + 0.05 * torch.randn(clean.shape, generator=_gen(15))
    high, low = jpeg(noisy, [95]), jpeg(noisy, [20])
    assert torch.equal(high, high.mul(255).round().div(255))
    assert float((high - noisy).abs().mean()) < float((low - noisy).abs().mean())


def test_colour_matrix_round_trip_leaves_a_noiseless_photo() -> None:
    clean = torch.rand(1, 3, 8, 8, generator=_gen(16), dtype=torch.float64)
    matrix = torch.tensor([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.05, 0.2, 0.75]], dtype=torch.float64)
    tiny = torch.tensor([1e-12], dtype=torch.float64)
    out = camera_noise(clean, tiny, torch.zeros(1, dtype=torch.float64), _gen(17), rgb_to_cam=matrix)
    assert torch.allclose(out, clean, atol=1e-4)


def test_profile_levels_draw_rows_and_reject_bad_tables() -> None:
    table = torch.tensor([[1e-3, 2e-3, 3e-3, 1e-5, 2e-5, 3e-5], [4e-3, 5e-3, 6e-3, 4e-5, 5e-5, 6e-5]])
    a, b = profile_levels(table, 50, _gen(18))
    assert a.shape == (50, 3) and b.shape == (50, 3)
    assert {tuple(row) for row in torch.cat([a, b], 1).float().tolist()} <= {tuple(r) for r in table.tolist()}
    with pytest.raises(ValueError, match="profiles"):
        profile_levels(torch.zeros(0, 6), 1, _gen(19))


def test_bad_parameters_are_named() -> None:
    clean = torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError, match="shot noise"):
        poisson_gaussian(clean, torch.tensor([0.0]), torch.tensor([0.0]), _gen(20))
    with pytest.raises(ValueError, match="camera noise level"):
        add_noise(clean, "camera", 101.0, _gen(21))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        add_noise(torch.rand(1, 1, 4, 4), "camera", 1.0, _gen(22))


def test_load_profiles_keeps_one_split_and_iso_band(tmp_path: Path) -> None:
    import json

    from nnkit.denoise.camera_noise import load_profiles

    rows = [
        {"maker": "M", "model": "A", "iso": 100.0, "a": [1e-5] * 3, "b": [1e-8] * 3, "split": "train"},
        {"maker": "M", "model": "A", "iso": 3200.0, "a": [1e-3] * 3, "b": [1e-6] * 3, "split": "train"},
        {"maker": "M", "model": "B", "iso": 3200.0, "a": [2e-3] * 3, "b": [2e-6] * 3, "split": "test"},
    ]
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"profiles": rows}))
    table = load_profiles(path, "train", (1600, 6400))
    assert table.tolist() == [[1e-3] * 3 + [1e-6] * 3]
    assert load_profiles(path, "test").shape == (1, 6)
    with pytest.raises(ValueError, match="no val camera"):
        load_profiles(path, "val")


def test_camera_training_pairs_are_two_independent_draws_of_one_crop() -> None:
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.data import load_data

    config = RunConfig(noise="camera", noise_level=1.0, noise_level_max=12.0, crop_size=32, epoch_size=16, seed=3)
    data = load_data(config)
    x, y = next(iter(data.epoch_batches(1, 4)))
    assert x.shape == y.shape == (4, 3, 32, 32)
    assert not torch.equal(x, y)  # two draws of noise
    # of one clean crop: the two noisy images agree far better than two crops would (correlation near 1)
    for a, b in zip(x, y, strict=True):
        assert float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1]) > 0.5
    x2, y2 = next(iter(load_data(config).epoch_batches(1, 4)))
    assert torch.equal(x, x2) and torch.equal(y, y2)  # seeded


def test_denoise_train_runs_with_camera_noise_and_refuses_a_level_out_of_range(tmp_path: Path) -> None:
    from nnkit.denoise.checkpoint import load_checkpoint
    from nnkit.denoise.cli import train_main

    tiny = ["--arch", "report", "--width", "4", "--epoch-size", "8", "--batch-size", "4", "--crop-size", "16",
            "--device", "cpu", "--noise", "camera", "--quiet"]
    out = tmp_path / "run"
    blind = ["--noise-level", "0.1", "--noise-level-max", "12"]
    assert train_main([*tiny, *blind, "--epochs", "1", "--out", str(out)]) == 0
    config = load_checkpoint(out / "checkpoint.safetensors").config
    assert (config.noise, config.noise_range) == ("camera", (0.1, 12.0))
    assert train_main([*tiny, "--noise-level", "150", "--out", str(tmp_path / "bad")]) == 2
