"""Noise models: statistics, determinism, no clipping, validation."""

from __future__ import annotations

import pytest
import torch

from nnkit.denoise.noise import NOISE_KINDS, add_noise, check_noise, recommended_loss


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gaussian_statistics_unclipped() -> None:
    clean = torch.full((4, 3, 64, 64), 0.5)
    noisy = add_noise(clean, "gaussian", 25.0, _gen())
    residual = noisy - clean
    assert abs(residual.mean().item()) < 2e-3
    assert residual.std().item() == pytest.approx(25 / 255, rel=0.02)
    edge = add_noise(torch.zeros(1, 3, 32, 32), "gaussian", 50.0, _gen())
    assert edge.min() < -0.2 and edge.mean().abs() < 0.01  # not clipped: zero mean at black


def test_gaussian_zero_level_is_copy() -> None:
    clean = torch.rand(1, 3, 4, 4)
    out = add_noise(clean, "gaussian", 0, _gen())
    assert torch.equal(out, clean) and out is not clean


def test_poisson_mean_and_variance() -> None:
    clean = torch.full((2, 3, 64, 64), 0.3)
    noisy = add_noise(clean, "poisson", 50.0, _gen())
    assert noisy.mean().item() == pytest.approx(0.3, abs=3e-3)
    assert noisy.var().item() == pytest.approx(0.3 / 50, rel=0.05)  # Var = clean / photons
    assert torch.allclose(noisy * 50, (noisy * 50).round(), atol=1e-4)  # whole photon counts


@pytest.mark.parametrize("percent", [0.0, 10.0, 50.0, 100.0])
def test_impulse_fraction(percent: float) -> None:
    clean = torch.full((2, 3, 64, 64), 0.5)
    noisy = add_noise(clean, "impulse", percent, _gen())
    hit = (noisy != clean).float().mean().item()
    assert hit == pytest.approx(percent / 100, abs=0.01)
    assert noisy.min() >= 0 and noisy.max() <= 1


def test_saltpepper_values() -> None:
    clean = torch.full((1, 3, 64, 64), 0.5)
    noisy = add_noise(clean, "saltpepper", 30.0, _gen())
    changed = noisy[noisy != clean]
    assert set(changed.unique().tolist()) == {0.0, 1.0}
    assert changed.numel() / noisy.numel() == pytest.approx(0.3, abs=0.015)


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_deterministic_and_independent_draws(kind: str) -> None:
    clean = torch.rand(2, 3, 16, 16, generator=_gen(9))
    level = {"gaussian": 25.0, "poisson": 30.0, "impulse": 20.0, "saltpepper": 20.0, "camera": 4.0}[kind]
    a = add_noise(clean, kind, level, _gen(1))
    b = add_noise(clean, kind, level, _gen(1))
    assert torch.equal(a, b) and a.shape == clean.shape and a.dtype == clean.dtype
    g = _gen(1)
    first, second = add_noise(clean, kind, level, g), add_noise(clean, kind, level, g)
    assert not torch.equal(first, second)


def test_float64_kept() -> None:
    clean = torch.rand(1, 3, 4, 4, dtype=torch.float64)
    for kind in NOISE_KINDS:
        assert add_noise(clean, kind, 10.0, _gen()).dtype == torch.float64


def test_validation_messages() -> None:
    clean = torch.rand(1, 3, 4, 4)
    with pytest.raises(ValueError, match="speckle"):
        add_noise(clean, "speckle", 1.0, _gen())
    with pytest.raises(ValueError, match=r"gaussian.*300"):
        add_noise(clean, "gaussian", 300.0, _gen())
    with pytest.raises(ValueError, match=r"poisson.*0"):
        check_noise("poisson", 0.0)
    with pytest.raises(ValueError, match=r"impulse.*101"):
        check_noise("impulse", 101.0)
    with pytest.raises(ValueError, match="finite"):
        check_noise("gaussian", float("nan"))
    with pytest.raises(ValueError, match="floating"):
        add_noise(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), "gaussian", 1.0, _gen())


def test_recommended_loss() -> None:
    assert recommended_loss("gaussian") == "mse" and recommended_loss("poisson") == "mse"
    assert recommended_loss("impulse") == "l1" and recommended_loss("saltpepper") == "l1"
    with pytest.raises(ValueError):
        recommended_loss("nope")
