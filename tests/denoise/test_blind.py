"""Blind denoising: noise levels per image over a range, the config fields, data, checkpoint round trip, API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.data import VAL_PHOTOS, load_data
from nnkit.denoise.data.synthetic import VAL_LEVELS
from nnkit.denoise.events import Finished, PhotoScores
from nnkit.denoise.inference import Denoiser, denoise_array
from nnkit.denoise.noise import add_noise, draw_levels, spread_levels
from nnkit.denoise.trainer import Trainer

BLIND = RunConfig(
    arch="unet",
    width=4,
    epochs=1,
    epoch_size=8,
    batch_size=8,
    crop_size=16,
    noise_level=0,
    noise_level_max=50,
    device="cpu",
)


def test_levels_per_image() -> None:
    g = torch.Generator().manual_seed(0)
    levels = draw_levels("gaussian", 0.0, 50.0, 4000, g)
    assert levels.min() >= 0 and levels.max() <= 50
    assert levels.mean().item() == pytest.approx(25.0, abs=1.0)
    clean = torch.full((3, 3, 64, 64), 0.5)
    noisy = add_noise(clean, "gaussian", torch.tensor([0.0, 10.0, 40.0]), g)
    stds = (noisy - clean).flatten(1).std(dim=1) * 255
    assert stds.tolist() == pytest.approx([0.0, 10.0, 40.0], abs=1.0)
    assert spread_levels(0, 60, 6) == [5, 15, 25, 35, 45, 55]
    with pytest.raises(ValueError, match="one noise level per image"):
        add_noise(clean, "gaussian", torch.tensor([1.0, 2.0]), g)
    with pytest.raises(ValueError, match="sigma"):
        add_noise(clean, "gaussian", torch.tensor([1.0, 2.0, 300.0]), g)


def test_config_range() -> None:
    assert RunConfig().noise_range is None  # the teaching default: one fixed σ
    assert BLIND.noise_range == (0.0, 50.0)
    with pytest.raises(ConfigError, match="noise_level_max"):
        RunConfig(noise_level=25, noise_level_max=20)
    with pytest.raises(ConfigError, match="noise_level_max"):
        RunConfig(noise_level=0, noise_level_max=300)


def test_blind_batches_and_validation_levels() -> None:
    data = load_data(BLIND)
    x, y = next(iter(data.epoch_batches(1, 8)))
    # the target is unclipped and independent: the difference's spread is √2 σ, one σ per image
    spread = ((x - y).flatten(1).std(dim=1) * 255 / 2**0.5).tolist()
    assert max(spread) - min(spread) > 10
    assert x.min() >= 0 and x.max() <= 1 and (y.min() < 0 or y.max() > 1)
    residual = (data.val_noisy - data.val_clean).flatten(1).std(dim=1) * 255
    assert residual[:VAL_LEVELS].argsort().tolist() == list(range(VAL_LEVELS))  # levels rise through each cycle
    assert len(data.val_photos) == len(VAL_PHOTOS) and data.val_photos[0].dtype == np.uint8


def test_blind_checkpoint_round_trip_and_photo_scores(tmp_path: Path) -> None:
    events: list[object] = []
    config = BLIND.replace(score_photos=True)
    finished = Trainer(config, events.append, checkpoint_path=tmp_path / "blind.safetensors").run()
    assert isinstance(finished, Finished) and finished.reason == "done", finished.message
    scores = [e for e in events if isinstance(e, PhotoScores)]
    assert len(scores) == 1 and scores[0].level == 25.0 and len(scores[0].per_photo) == len(VAL_PHOTOS)
    assert 0 < scores[0].ssim < 1 and 19 < scores[0].noisy_psnr < 22  # σ=25 on 8-bit photos: about 20.3 dB
    ckpt = load_checkpoint(tmp_path / "blind.safetensors")
    assert ckpt.config == config and ckpt.config.noise_range == (0.0, 50.0)
    image = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    model = model_from_checkpoint(ckpt)
    den = Denoiser.from_checkpoint(tmp_path / "blind.safetensors", device="cpu")
    assert den.noise_levels == (0.0, 50.0) and "0-50 (blind)" in den.describe()
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    expected = model(x).clamp(0, 1).mul(255).round().to(torch.uint8)[0].permute(1, 2, 0).numpy()
    assert np.array_equal(den.denoise(image), denoise_array(model, image, noise_sigma="estimate"))
    den.correct_means = False  # the network alone
    assert np.array_equal(den.denoise(image), expected)


def test_denoiser_strength_sigma_and_estimate(tmp_path: Path) -> None:
    Trainer(BLIND.replace(epochs=1), checkpoint_path=tmp_path / "b.safetensors").run()
    den = Denoiser.from_checkpoint(tmp_path / "b.safetensors", device="cpu")
    image = np.random.default_rng(1).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    full = den.denoise(image, sigma=12.0).astype(float)
    half = den.denoise(image, sigma=12.0, strength=0.5).astype(float)
    assert np.array_equal(den.denoise(image, strength=0.0), image)
    assert np.abs(half - (image + full) / 2).max() <= 1.0
    for bad in ({"strength": 1.5}, {"strength": -0.1}, {"sigma": -1.0}, {"sigma": 256.0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            den.denoise(image, **bad)
    assert den.estimate_sigma(image) > 50  # uniform random pixels: all "noise"


def test_init_from_a_checkpoint(tmp_path: Path) -> None:
    from nnkit.denoise.checkpoint import CheckpointError

    Trainer(BLIND, checkpoint_path=tmp_path / "a.safetensors").run()
    saved = load_checkpoint(tmp_path / "a.safetensors").weights
    tuned = Trainer(BLIND.replace(init_from=str(tmp_path / "a.safetensors"), noise_level_max=0, seed=4))
    assert all(torch.equal(tuned.model.state_dict()[k], v) for k, v in saved.items())
    assert tuned.epoch == 0 and tuned.step == 0  # a new run, not a resumed one
    with pytest.raises(CheckpointError, match="width"):
        Trainer(BLIND.replace(init_from=str(tmp_path / "a.safetensors"), width=8))
    with pytest.raises(CheckpointError):
        Trainer(BLIND.replace(init_from=str(tmp_path / "missing.safetensors")))
