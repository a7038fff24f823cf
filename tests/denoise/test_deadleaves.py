"""Dead leaves: the generator (shape, range, determinism, content), the source, the mix into photos."""

from __future__ import annotations

import pytest
import torch

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.data import DeadLeavesPairs, dead_leaves, load_data, noisy_psnr
from nnkit.denoise.data.deadleaves import R_MIN, _radii, leaf_draws, mixed_crops, shapes_per_image


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_images_have_the_shape_and_range_and_depend_only_on_the_seed() -> None:
    a = dead_leaves(20, 48, _gen(3))  # more than one chunk of 16
    assert a.shape == (20, 3, 48, 48) and a.dtype == torch.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert torch.equal(a, dead_leaves(20, 48, _gen(3)))
    assert not torch.equal(a, dead_leaves(20, 48, _gen(4)))
    assert dead_leaves(0, 32, _gen()).shape == (0, 3, 32, 32)
    for bad in (-1, 2.0, True):
        with pytest.raises(ValueError, match="count"):
            dead_leaves(bad, 32, _gen())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="size"):
        dead_leaves(1, 0, _gen())


def test_images_look_like_dead_leaves() -> None:
    x = dead_leaves(32, 64, _gen(1))
    grey = x.mean(dim=1)
    # flat areas: many pixels equal to their right neighbour; edges: some jumps
    same = (grey[:, :, 1:] - grey[:, :, :-1]).abs() < 1e-3
    assert 0.15 < same.float().mean() < 0.95
    assert ((grey[:, :, 1:] - grey[:, :, :-1]).abs() > 0.1).float().mean() > 0.02
    # dark and bright regions, colour, and images that differ from one another
    assert 0.05 < (grey < 0.2).float().mean() < 0.6 and (grey > 0.6).float().mean() > 0.03
    assert (x.max(dim=1).values - x.min(dim=1).values).mean() > 0.05
    assert x.mean(dim=(1, 2, 3)).std() > 0.03


def test_radii_follow_the_power_law() -> None:
    r = _radii(torch.rand(200_000, generator=_gen()), 64.0)
    assert r.min() >= R_MIN - 1e-4 and r.max() <= 64.0
    # p(r) ∝ r^-3: P(r > 2 R_MIN) = (1/4 - (R_MIN/64)^2) / (1 - (R_MIN/64)^2)
    q = (R_MIN / 64.0) ** 2
    assert (r > 2 * R_MIN).float().mean() == pytest.approx((0.25 - q) / (1 - q), abs=0.01)
    assert shapes_per_image(96) > shapes_per_image(64) > 8


def test_mix_fraction_is_honoured_per_crop() -> None:
    for mix in (0.0, 0.25, 1.0):
        share = leaf_draws(40_000, mix, _gen()).float().mean().item()
        assert share == pytest.approx(mix, abs=0.01)
    photos = []

    def photo_crops(count: int, generator: torch.Generator) -> torch.Tensor:
        photos.append(count)
        return torch.full((count, 3, 16, 16), -1.0)

    crops = mixed_crops(photo_crops, 400, 16, 0.3, _gen(5))
    from_photos = (crops == -1.0).flatten(1).all(dim=1)
    assert photos == [int(from_photos.sum())] and 0.6 < from_photos.float().mean() < 0.8
    assert crops[~from_photos].min() >= 0.0
    assert not (mixed_crops(photo_crops, 8, 16, 1.0, _gen()) == -1.0).any()


def test_builtin_source_mixes_dead_leaves_into_its_crops() -> None:
    base = RunConfig(epoch_size=32, batch_size=16, crop_size=32)
    plain, mixed = load_data(base), load_data(base.replace(dead_leaves_mix=0.5))
    assert torch.equal(plain.val_clean, mixed.val_clean)  # validation stays on the photos
    g1, g2 = _gen(9), _gen(9)
    a, b = plain.clean_crops(64, g1), mixed.clean_crops(64, g2)  # type: ignore[attr-defined]
    same = (a - b).abs().flatten(1).amax(dim=1) == 0
    assert a.shape == b.shape and not same.all()
    x1, _ = next(iter(mixed.epoch_batches(0, 16)))
    x2, _ = next(iter(load_data(base.replace(dead_leaves_mix=0.5)).epoch_batches(0, 16)))
    assert torch.equal(x1, x2)


def test_deadleaves_source_alone() -> None:
    config = RunConfig(data="deadleaves", epoch_size=32, batch_size=16, crop_size=40)
    data = load_data(config)
    assert isinstance(data, DeadLeavesPairs) and "dead leaves" in data.description
    assert data.val_clean.shape == (32, 3, 96, 96)
    assert torch.equal(data.val_clean, load_data(config.replace(seed=3)).val_clean)  # fixed validation
    assert 19.0 < noisy_psnr(data) < 22.5  # σ = 25 on dead leaves
    batches = list(data.epoch_batches(0, 16))
    again = list(load_data(config).epoch_batches(0, 16))
    assert len(batches) == 2 and batches[0][0].shape == (16, 3, 40, 40)
    for (x1, y1), (x2, y2) in zip(batches, again, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(batches[0][0], next(iter(data.epoch_batches(1, 16)))[0])


def test_config_checks_the_mix() -> None:
    assert RunConfig().dead_leaves_mix == 0.0
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="dead_leaves_mix"):
            RunConfig(dead_leaves_mix=bad)
    with pytest.raises(ConfigError, match="dead_leaves_mix"):
        RunConfig(data="course", data_path="x", dead_leaves_mix=0.5)
    with pytest.raises(ConfigError, match="target"):
        RunConfig(data="deadleaves", target="self")
    RunConfig(data="folder", data_path="x", dead_leaves_mix=1.0)
