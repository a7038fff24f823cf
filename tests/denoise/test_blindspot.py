"""Blind-spot training (target 'self'): masks, fills, noisy-photo data, noise 'none', engines and trainer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.data import BlindSpotData, DataError, load_data
from nnkit.denoise.data.blindspot import PackedMaskedLoss, blindspot_mask, hide_pixels, mask_cell, pack, unpack
from nnkit.denoise.engines import make_engine
from nnkit.denoise.events import Epoch, Finished, Preview, Started
from nnkit.denoise.imageio import write_image
from nnkit.denoise.models import build_model
from nnkit.denoise.trainer import Trainer
from nnkit.loss import MaskedMSELoss


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def photo(h: int = 80, w: int = 40, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def self_config(path: Path, **changes: object) -> RunConfig:
    base = dict(
        arch="report", width=4, crop_size=16, epoch_size=16, batch_size=8, epochs=1, device="cpu",
        data="folder", data_path=str(path), noise="none", target="self",
    )  # fmt: skip
    return RunConfig(**{**base, **changes})  # type: ignore[arg-type]


# -- masks ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fraction", "cell"), [(0.04, 5), (0.02, 7), (0.25, 2), (0.001, 32)])
def test_one_hidden_pixel_per_cell(fraction: float, cell: int) -> None:
    assert mask_cell(fraction) == cell
    mask = blindspot_mask(3, 4 * cell + 1, 3 * cell, fraction, gen())
    assert mask.shape == (3, 1, 4 * cell + 1, 3 * cell) and mask.dtype == torch.bool
    per_cell = mask[:, 0, : 4 * cell].reshape(3, 4, cell, 3, cell).sum(dim=(2, 4))
    assert torch.equal(per_cell, torch.ones_like(per_cell))
    assert int(mask[:, 0, 4 * cell :].sum()) == 3 * 3  # the cut-short last row of cells has its pixels too


def test_mask_is_seeded_and_reproducible() -> None:
    a = blindspot_mask(4, 32, 32, 0.04, gen(7))
    assert torch.equal(a, blindspot_mask(4, 32, 32, 0.04, gen(7)))
    assert not torch.equal(a, blindspot_mask(4, 32, 32, 0.04, gen(8)))
    images = torch.rand(4, 3, 32, 32, generator=gen(1))
    for fill in ("neighbour", "interpolate"):
        x1, m1 = hide_pixels(images, 0.04, fill, gen(3))
        x2, m2 = hide_pixels(images, 0.04, fill, gen(3))
        assert torch.equal(x1, x2) and torch.equal(m1, m2)


def test_bad_fraction_and_fill_are_named() -> None:
    with pytest.raises(ValueError, match="fraction"):
        mask_cell(0.5)
    with pytest.raises(ValueError, match="fill 'zero'"):
        hide_pixels(torch.rand(1, 3, 8, 8), 0.04, "zero", gen())
    with pytest.raises(ConfigError, match="mask_fraction"):
        RunConfig(mask_fraction=0.0)
    with pytest.raises(ConfigError, match="mask_fill"):
        RunConfig(mask_fill="zero")


@pytest.mark.parametrize("fill", ["neighbour", "interpolate"])
def test_hidden_pixels_carry_nothing_of_their_own_value(fill: str) -> None:
    """J-invariance: changing a hidden pixel's own value leaves the network's whole input unchanged there."""
    images = torch.rand(2, 3, 24, 20, generator=gen(2), dtype=torch.float64)
    masked, mask = hide_pixels(images, 0.04, fill, gen(5))
    keep = ~mask.expand_as(images)
    assert torch.equal(masked[keep], images[keep])  # visible pixels untouched
    assert not torch.equal(masked, images)
    # change only pixels that are hidden and whose 5×5 neighbourhood holds no other hidden pixel
    pooled = torch.nn.functional.max_pool2d(mask.double(), 5, stride=1, padding=2) * 25
    lonely = mask & (torch.nn.functional.avg_pool2d(mask.double(), 5, stride=1, padding=2) * 25 < 1.5)
    assert int(lonely.sum()) > 0 and float(pooled.max()) == 25.0
    changed = torch.where(lonely.expand_as(images), images + 7.0, images)
    masked2, _ = hide_pixels(changed, 0.04, fill, gen(5))
    assert torch.equal(masked2[lonely.expand_as(images)], masked[lonely.expand_as(images)])


def test_neighbour_fill_copies_a_pixel_of_the_5x5_neighbourhood() -> None:
    images = torch.arange(2 * 3 * 12 * 12, dtype=torch.float64).reshape(2, 3, 12, 12)  # every value unique
    masked, mask = hide_pixels(images, 0.04, "neighbour", gen(4))
    for n, _, y, x in mask.nonzero().tolist():
        value = masked[n, 0, y, x]
        where = (images[n, 0] == value).nonzero()
        assert len(where) == 1
        dy, dx = (where[0] - torch.tensor([y, x])).abs().tolist()
        # mirrored at the border, the copied pixel is at most 2 rows/cols away, never the pixel itself
        assert (dy, dx) != (0, 0) and max(dy, dx) <= 4
        assert torch.equal(masked[n, :, y, x], images[n, :, where[0, 0], where[0, 1]])


def test_interpolate_fill_is_the_donut_mean() -> None:
    images = torch.rand(1, 3, 10, 10, generator=gen(6), dtype=torch.float64)
    masked, mask = hide_pixels(images, 0.04, "interpolate", gen(1))
    weights = torch.tensor([[0.5, 1, 0.5], [1, 0, 1], [0.5, 1, 0.5]], dtype=torch.float64) / 6.0
    for _, _, y, x in mask.nonzero().tolist():
        if 0 < y < 9 and 0 < x < 9:
            expected = (images[0, :, y - 1 : y + 2, x - 1 : x + 2] * weights).sum(dim=(1, 2))
            torch.testing.assert_close(masked[0, :, y, x], expected)


def test_packed_loss_is_the_masked_loss() -> None:
    pred, target = torch.rand(2, 3, 8, 8, generator=gen(1)), torch.rand(2, 3, 8, 8, generator=gen(2))
    mask = blindspot_mask(2, 8, 8, 0.1, gen(3))
    t, m = unpack(pack(target, mask))
    assert torch.equal(t, target) and torch.equal(m.bool(), mask)
    packed, plain = PackedMaskedLoss("mse"), MaskedMSELoss()
    assert float(packed.forward(pred, pack(target, mask))) == float(plain.forward(pred, target, mask))
    assert torch.equal(packed.backward(), plain.backward())


# -- data -------------------------------------------------------------------------------------------
def test_noise_none_adds_nothing(tmp_path: Path) -> None:
    image = photo()
    write_image(tmp_path / "noisy.png", image)
    data = load_data(self_config(tmp_path / "noisy.png", augment=False))
    assert isinstance(data, BlindSpotData) and data.val_clean is None and math.isnan(data.noisy_psnr())
    assert np.array_equal(data.images[0], image[:64])  # top 64 rows train, untouched; the bottom 16 validate
    as_float = torch.from_numpy(image).permute(2, 0, 1).double() / 255
    c = 16
    windows = as_float.unfold(1, c, 1).unfold(2, c, 1)  # (3, positions y, positions x, c, c)
    for x, y in data.epoch_batches(1, 8):
        target, mask = unpack(y)
        assert torch.equal(x[~mask.bool().expand_as(x)], target[~mask.bool().expand_as(x)])
        for crop in target.double():
            diff = (windows[:, : 64 - c + 1] - crop[:, None, None]).abs().amax(dim=(0, 3, 4))
            assert float(diff.min()) < 1e-6  # every target is an exact crop of the photo: no noise added
    bottom = as_float[:, 64:]
    assert any(float((bottom[:, :, i : i + 16] - data.val_noisy[0].double()).abs().max()) < 1e-6 for i in range(25))


def test_noise_none_needs_target_self_and_own_photos() -> None:
    with pytest.raises(ConfigError, match="target"):
        RunConfig(noise="none", target="noisy", data="folder", data_path="x")
    with pytest.raises(ConfigError, match="data"):
        RunConfig(noise="none", target="self")


def test_synthetic_noise_is_drawn_once_and_scored_against_the_clean_image(tmp_path: Path) -> None:
    image = photo(seed=1)
    write_image(tmp_path / "clean.png", image)
    cfg = self_config(tmp_path / "clean.png", noise="gaussian", noise_level=25.0, seed=3)
    a, b = load_data(cfg), load_data(cfg)
    assert isinstance(a, BlindSpotData) and isinstance(b, BlindSpotData) and a.val_clean is not None
    assert np.array_equal(a.images[0], b.images[0]) and not np.array_equal(a.images[0], image[:64])
    residual = (a.images[0].astype(float) - image[:64]) / 255
    assert 0.06 < residual.std() < 0.11  # sigma 25/255 = 0.098, less where clipped
    assert 15 < a.noisy_psnr() < 25
    other = load_data(cfg.replace(seed=4))
    assert isinstance(other, BlindSpotData) and not np.array_equal(other.images[0], a.images[0])
    first, again = next(iter(a.epoch_batches(1, 8))), next(iter(b.epoch_batches(1, 8)))
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])


def test_clean_references_from_clean_path(tmp_path: Path) -> None:
    noisy_dir, clean_dir = tmp_path / "noisy", tmp_path / "clean"
    noisy_dir.mkdir(), clean_dir.mkdir()
    for i in range(3):
        write_image(noisy_dir / f"p{i}.png", photo(40, 40, seed=i))
        write_image(clean_dir / f"p{i}.png", photo(40, 40, seed=10 + i))
    data = load_data(self_config(noisy_dir, clean_path=str(clean_dir)))
    assert data.val_clean is not None and math.isfinite(data.noisy_psnr())
    (clean_dir / "p1.png").unlink()
    with pytest.raises(DataError, match=r"p1\.png"):
        load_data(self_config(noisy_dir, clean_path=str(clean_dir)))
    write_image(clean_dir / "p1.png", photo(40, 36))
    with pytest.raises(DataError, match=r"p1.png.*36x40.*40x40"):
        load_data(self_config(noisy_dir, clean_path=str(clean_dir)))


def test_unusable_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.png"):
        load_data(self_config(tmp_path / "missing.png"))
    write_image(tmp_path / "small.png", photo(20, 20))
    with pytest.raises(DataError, match="too small"):
        load_data(self_config(tmp_path / "small.png"))
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"junk\.png"):
        load_data(self_config(tmp_path / "junk.png"))
    with pytest.raises(DataError, match="course"):
        load_data(RunConfig(data="course", data_path=str(tmp_path), target="self"))


# -- engines and trainer ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["mse", "l1"])
def test_engines_agree_on_blindspot_steps_float64(tmp_path: Path, loss: str) -> None:
    write_image(tmp_path / "noisy.png", photo())
    cfg = self_config(tmp_path / "noisy.png", dtype="float64", loss=loss, lr=1e-2, epoch_size=32)
    data = load_data(cfg)
    nn_engine = make_engine(cfg, build_model(cfg))
    torch_engine = make_engine(cfg.replace(engine="torch"), build_model(cfg))
    for x, y in data.epoch_batches(1, cfg.batch_size):
        a, b = nn_engine.train_step(x, y), torch_engine.train_step(x, y)
        assert a == pytest.approx(b, rel=1e-9, abs=0.0)
    for name, value in nn_engine.model_state().items():
        torch.testing.assert_close(value, torch_engine.model_state()[name], rtol=1e-7, atol=1e-9, msg=name)


def test_training_moves_only_through_hidden_pixels(tmp_path: Path) -> None:
    """Targets off the mask never reach the weights: changing them leaves one step's result identical."""
    write_image(tmp_path / "noisy.png", photo())
    cfg = self_config(tmp_path / "noisy.png", dtype="float64")
    x, y = next(iter(load_data(cfg).epoch_batches(1, cfg.batch_size)))
    target, mask = unpack(y)
    scrambled = pack(torch.where(mask.bool(), target, torch.rand(target.shape, generator=gen(9))), mask.bool())
    a, b = make_engine(cfg, build_model(cfg)), make_engine(cfg, build_model(cfg))
    assert a.train_step(x, y) == b.train_step(x, scrambled)
    for name, value in a.model_state().items():
        assert torch.equal(value, b.model_state()[name]), name


def test_trainer_without_clean_images_reports_the_masked_loss(tmp_path: Path) -> None:
    write_image(tmp_path / "noisy.png", photo())
    events: list[object] = []
    ckpt = tmp_path / "c.safetensors"
    trainer = Trainer(self_config(tmp_path / "noisy.png", epochs=2), events.append, checkpoint_path=ckpt)
    finished = trainer.run()
    assert finished.reason == "done", finished.message
    assert "best validation loss" in finished.message and math.isnan(finished.best_psnr)
    started = next(e for e in events if isinstance(e, Started))
    assert math.isnan(started.noisy_psnr)
    epochs = [e for e in events if isinstance(e, Epoch)]
    assert [e.epoch for e in epochs] == [0, 1, 2]
    assert all(math.isnan(e.val_psnr) and math.isfinite(e.val_loss) and e.val_loss > 0 for e in epochs)
    assert trainer.best_val_loss == min(e.val_loss for e in epochs[1:])
    preview = next(e for e in events if isinstance(e, Preview))
    assert np.array_equal(preview.clean, preview.noisy) and all(math.isnan(p) for p in preview.psnr)
    assert finished.checkpoint == str(ckpt) and (tmp_path / "c.best.safetensors").is_file()
    assert isinstance(events[-1], Finished)


def test_trainer_with_synthetic_noise_reports_psnr_and_loss(tmp_path: Path) -> None:
    write_image(tmp_path / "clean.png", photo())
    events: list[object] = []
    Trainer(self_config(tmp_path / "clean.png", noise="gaussian"), events.append).run()
    epochs = [e for e in events if isinstance(e, Epoch)]
    assert all(math.isfinite(e.val_psnr) and math.isfinite(e.val_loss) for e in epochs)


# -- the command line, as a user calls it -------------------------------------------------------------
def test_cli_trains_on_one_noisy_photo_then_denoises_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nnkit.denoise.cli import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, denoise_main, train_main
    from nnkit.denoise.imageio import read_image

    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "mine.png", photo(72, 56))
    out = tmp_path / "run"
    tiny = ["--arch", "report", "--width", "4", "--epoch-size", "16", "--batch-size", "8", "--crop-size", "16"]
    argv = ["--data", "folder", "--data-path", str(photos), "--noise", "none", "--target", "self", "--out", str(out)]
    assert train_main([*argv, *tiny, "--epochs", "2", "--device", "cpu", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "best validation loss" in printed and "nan" not in printed
    for name in (CHECKPOINT_NAME, BEST_NAME, METRICS_NAME, "config.json"):
        assert (out / name).is_file(), name
    epochs = [json.loads(line) for line in (out / METRICS_NAME).read_text().splitlines() if '"epoch", "epoch"' in line]
    assert [e["epoch"] for e in epochs] == [0, 1, 2]
    assert all(e["val_psnr"] is None and e["val_loss"] > 0 for e in epochs)
    best = str(out / BEST_NAME)
    assert (
        denoise_main(
            [str(photos / "mine.png"), "-o", str(tmp_path / "den"), "--checkpoint", best, "--orientations", "8"]
        )
        == 0
    )
    result = read_image(tmp_path / "den" / "mine.png.denoised.png")
    assert result.shape == (72, 56, 3)
    assert train_main([*argv[:-2], "--target", "noisy", "--out", str(tmp_path / "y")]) == 2
    assert "--target: must be 'self' with noise 'none'" in capsys.readouterr().err
