"""Light-weighted level draws and the camera-noise share of blind Gaussian training."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.data import load_data
from nnkit.denoise.data.synthetic import camera_picks
from nnkit.denoise.noise import CAMERA_MIX_RANGE, draw_levels

BLIND = RunConfig(
    arch="unet", width=4, epochs=1, epoch_size=16, batch_size=16, crop_size=16,
    noise_level=0, noise_level_max=50, device="cpu",
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@given(low=st.floats(0, 100), span=st.floats(0.5, 150), seed=st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_light_draws_stay_in_the_range(low: float, span: float, seed: int) -> None:
    high = min(low + span, 255.0)
    levels = draw_levels("gaussian", low, high, 500, _gen(seed), "light")
    assert levels.dtype == torch.float64 and levels.shape == (500,)
    assert float(levels.min()) >= low and float(levels.max()) <= high


def test_light_draws_favour_light_noise() -> None:
    uniform = draw_levels("gaussian", 0, 50, 100_000, _gen(0))
    light = draw_levels("gaussian", 0, 50, 100_000, _gen(0), "light")
    assert float((uniform < 15).double().mean()) == pytest.approx(0.30, abs=0.01)
    # log(15 + 5) - log(5) over log(55) - log(5): 57.8% of draws below σ 15
    assert float((light < 15).double().mean()) == pytest.approx(0.578, abs=0.01)
    assert float(light.max()) > 45  # heavy noise is still drawn
    with pytest.raises(ValueError, match="level draw"):
        draw_levels("gaussian", 0, 50, 3, _gen(0), "heavy")


def test_camera_picks() -> None:
    assert camera_picks(8, 0.0, _gen(0)) is None
    g = _gen(0)
    state = g.get_state()
    camera_picks(8, 0.0, g)
    assert torch.equal(g.get_state(), state)  # a mix of 0 draws nothing: older seeds keep their crops
    picks = camera_picks(10_000, 0.3, _gen(1))
    assert picks is not None
    index, levels = picks
    assert len(index) == pytest.approx(3000, rel=0.06)
    assert float(levels.min()) >= CAMERA_MIX_RANGE[0] and float(levels.max()) <= CAMERA_MIX_RANGE[1]


def _correlation(noise: torch.Tensor) -> float:
    """Mean correlation of horizontally neighbouring noise values (≈ 0 for white noise)."""
    a, b = noise[..., :-1].flatten(), noise[..., 1:].flatten()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


def test_mixed_batches_share_kind_and_level_between_input_and_target() -> None:
    data = load_data(BLIND.replace(camera_mix=0.5, noise_level=10, noise_level_max=11, crop_size=48))
    clean = torch.full((16, 3, 48, 48), 0.4)
    data.clean_crops = lambda count, generator: clean.clone()  # type: ignore[method-assign]
    x, y = data.make_batch(16, _gen(5))
    picks = camera_picks(16, 0.5, _gen_after_levels(5, 16))
    assert picks is not None
    camera = set(picks[0].tolist())
    for i in range(16):
        # camera noise is demosaicked (neighbours correlated) in the input and in the target alike
        kinds = [_correlation(t[i] - clean[i]) > 0.2 for t in (x, y)]
        assert kinds == [i in camera] * 2, (i, kinds)
    assert not torch.equal(x, y.clamp(0, 1))  # two independent draws


def _gen_after_levels(seed: int, count: int) -> torch.Generator:
    """A generator in the state make_batch's is in after its crops and levels (clean crops are fixed here)."""
    g = _gen(seed)
    draw_levels("gaussian", 10, 11, count, g)
    return g


def test_config_checks_the_mix() -> None:
    assert BLIND.replace(camera_mix=0.3, level_draw="light").camera_mix == 0.3
    with pytest.raises(ConfigError, match="camera_mix"):
        BLIND.replace(camera_mix=1.5)
    with pytest.raises(ConfigError, match="camera_mix"):
        RunConfig(camera_mix=0.3)  # one fixed σ: not blind
    with pytest.raises(ConfigError, match="camera_mix"):
        BLIND.replace(noise="poisson", noise_level=5, noise_level_max=50, camera_mix=0.3)
    with pytest.raises(ConfigError, match="level_draw"):
        BLIND.replace(level_draw="heavy")
