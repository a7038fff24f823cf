"""Data sources: built-in photos, a folder of images, the course .pkl files."""

from __future__ import annotations

import math
import os
import pickle
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nnkit.denoise import data as data_module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import (
    CHANNEL_ORDERS,
    CoursePairs,
    DataError,
    SyntheticPairs,
    _colour,
    _geometry,
    _orient,
    load_data,
    noisy_psnr,
    prefetch,
)
from nnkit.denoise.quality.metrics import psnr

SMALL = RunConfig(epoch_size=64, batch_size=16)


# -- built-in photos --------------------------------------------------------------------------


def test_builtin_validation_is_fixed() -> None:
    a = load_data(SMALL)
    b = load_data(SMALL.replace(seed=7))
    assert a.val_clean.shape == (32, 3, 96, 96) and a.val_noisy.dtype == torch.float32
    assert torch.equal(a.val_noisy, b.val_noisy)  # independent of the run's seed
    assert a.val_noisy.min() >= 0 and a.val_noisy.max() <= 1
    assert 19.5 < noisy_psnr(a) < 21.5  # σ = 25, clipped noisy input
    assert noisy_psnr(a) == pytest.approx(psnr(a.val_noisy, a.val_clean))
    assert "chelsea" in a.description


def test_builtin_batches_deterministic_per_seed_and_epoch() -> None:
    data = load_data(SMALL)
    first = list(data.epoch_batches(0, 16))
    again = list(load_data(SMALL).epoch_batches(0, 16))
    assert len(first) == 4 and data.batches_per_epoch(16) == 4 and data.train_size == 64
    for (x1, y1), (x2, y2) in zip(first, again, strict=True):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    x, y = first[0]
    assert x.shape == y.shape == (16, 3, 32, 32) and x.dtype == y.dtype == torch.float32
    assert not torch.equal(next(iter(data.epoch_batches(1, 16)))[0], x)
    assert not torch.equal(next(iter(load_data(SMALL.replace(seed=1)).epoch_batches(0, 16)))[0], x)


def test_incomplete_last_batch_is_dropped() -> None:
    data = load_data(RunConfig(epoch_size=50, batch_size=16))
    assert [b[0].shape[0] for b in data.epoch_batches(0, 16)] == [16, 16, 16]


def test_builtin_epoch_is_fast() -> None:
    data = load_data(RunConfig(epoch_size=2000, batch_size=100))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # intra-op threads thrash when the CI cores are busy
    try:
        start = time.perf_counter()
        count = sum(x.shape[0] for x, _ in data.epoch_batches(0, 100))
        elapsed = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    assert count == 2000 and elapsed < 10.0  # ~0.15 s on one idle core: no per-pixel Python loops


@pytest.mark.parametrize("noise,level", [("gaussian", 25.0), ("poisson", 30.0), ("impulse", 20.0)])
def test_builtin_noise_models(noise: str, level: float) -> None:
    data = load_data(SMALL.replace(noise=noise, noise_level=level))
    x, y = next(iter(data.epoch_batches(0, 16)))
    assert x.min() >= 0 and x.max() <= 1 and not torch.equal(x, y)
    assert noisy_psnr(data) < 30


def test_bad_sizes_and_source() -> None:
    with pytest.raises(DataError, match=r"batch_size 32.*\(20 pairs"):
        load_data(RunConfig(epoch_size=20, batch_size=32))
    with pytest.raises(DataError, match="crop_size 512"):
        load_data(SMALL.replace(crop_size=512))
    config = RunConfig()
    object.__setattr__(config, "data", "web")
    with pytest.raises(DataError, match="web"):
        load_data(config)
    with pytest.raises(DataError, match="batch_size"):
        next(iter(load_data(SMALL).epoch_batches(0, 65)))


def test_prefetch_keeps_order_and_errors() -> None:
    data = load_data(SMALL)
    direct = list(data.epoch_batches(0, 16))
    ahead = list(prefetch(data.epoch_batches(0, 16), depth=2))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(direct, ahead, strict=True))

    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("disk gone")

    it = prefetch(broken())
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="disk gone"):
        next(it)
    endless = prefetch(iter(int, 1), depth=1)  # never ends: closing must stop the thread
    next(endless)
    endless.close()
    with pytest.raises(ValueError, match="depth"):
        next(prefetch([], depth=0))


# -- synthetic pairs on a flat photo: noise statistics and independence -----------------------


def _flat(value: int, size: int = 64) -> np.ndarray:
    return np.full((size, size, 3), value, dtype=np.uint8)


def _flat_pairs(config: RunConfig, value: int = 128) -> SyntheticPairs:
    return SyntheticPairs([_flat(value)], config, torch.full((2, 3, 16, 16), value / 255), "flat")


def test_n2n_targets_are_independent_draws() -> None:
    config = RunConfig(epoch_size=64, batch_size=64, augment=False, noise_level=10.0)
    x, y = next(iter(_flat_pairs(config).epoch_batches(0, 64)))
    nx, ny = (x - 128 / 255).flatten(), (y - 128 / 255).flatten()
    assert nx.std().item() == pytest.approx(10 / 255, rel=0.03)
    assert ny.std().item() == pytest.approx(10 / 255, rel=0.03)
    assert abs(torch.corrcoef(torch.stack([nx, ny]))[0, 1].item()) < 0.02


def test_clean_target_and_unclipped_noisy_target() -> None:
    config = RunConfig(epoch_size=32, batch_size=32, augment=False, target="clean")
    x, y = next(iter(_flat_pairs(config).epoch_batches(0, 32)))
    assert torch.equal(y, torch.full_like(y, 128 / 255)) and not torch.equal(x, y)
    dark = RunConfig(epoch_size=32, batch_size=32, augment=False, noise_level=50.0)
    x, y = next(iter(_flat_pairs(dark, value=5).epoch_batches(0, 32)))
    assert x.min() == 0 and y.min() < -0.1  # input clipped like a photo, target left unbiased
    assert y.mean().item() == pytest.approx(5 / 255, abs=0.005)


def test_augmentation_orientations() -> None:
    image = np.arange(4).reshape(2, 2, 1)
    draws = torch.tensor([[f, k / 4 + 0.01] for k in range(4) for f in (0.2, 0.7)], dtype=torch.float64)
    geometry = _geometry(draws, square=True)
    assert sorted(geometry) == [(f, k) for f in (False, True) for k in range(4)]
    views = {tuple(_orient(image, f, k, (0, 1)).flatten().tolist()) for f, k in geometry}
    assert len(views) == 8  # all 8 orientations of the square
    for f, k in geometry:  # numpy views match torch's flip + rot90 convention
        expected = torch.rot90(torch.from_numpy(image).flip(1) if f else torch.from_numpy(image), k, dims=(0, 1))
        assert _orient(image, f, k, (0, 1)).tolist() == expected.tolist()
    assert all(k in (0, 2) for _, k in _geometry(draws, square=False))


def test_colour_changes() -> None:
    clean = torch.rand(64, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    draws = torch.rand(64, 7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    out = _colour(clean, draws)
    assert out.shape == clean.shape and out.min() >= 0 and out.max() <= 1
    assert (out.mean(dim=(1, 2, 3)) - clean.mean(dim=(1, 2, 3))).abs().max() > 0.05  # brightness varies
    neutral = torch.tensor([[0, 0, math.log(1 / 0.6) / math.log(2), 0.5, 0.5, 0.5, 0.5]], dtype=torch.float64)
    assert torch.allclose(_colour(clean[:1], neutral), clean[:1], atol=1e-6)  # gain 1, contrast 1, colour 1


def test_builtin_augmented_crops_vary_and_stay_in_range() -> None:
    data = load_data(SMALL.replace(target="clean"))
    _, clean = next(iter(data.epoch_batches(0, 16)))
    assert clean.min() >= 0 and clean.max() <= 1 and clean.mean(dim=(1, 2, 3)).std() > 0.02


# -- folder source ------------------------------------------------------------------------------


def _photo(h: int, w: int, seed: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    base = np.stack([x * 255 / w, y * 255 / h, np.full((h, w), rng.integers(0, 255))], axis=2)
    return base.astype(np.uint8)


def _image_folder(root: Path) -> Path:
    folder = root / "photos"
    folder.mkdir()
    Image.fromarray(_photo(48, 64, 0)).save(folder / "a.png")
    Image.fromarray(_photo(40, 40, 1)).save(folder / "b.jpg")
    Image.fromarray(_photo(50, 45, 2)).save(folder / "c.tif")
    Image.fromarray(_photo(40, 60, 3)).save(folder / "d.bmp")
    Image.fromarray(_photo(64, 40, 4)).save(folder / "e.webp")
    Image.fromarray(_photo(64, 64, 5)).convert("P").save(folder / "f.gif")
    Image.fromarray(_photo(10, 10, 6)).save(folder / "tiny.png")
    (folder / "fake.png").write_text("not an image")
    (folder / "notes.txt").write_text("hello")
    (folder / ".hidden").write_text("ignored silently")
    (folder / "sub").mkdir()
    os.mkfifo(folder / "pipe.png")  # reading it would block for ever
    (folder / "gone.png").symlink_to(folder / "missing.png")
    return folder


def test_folder_source_skips_with_warnings(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path)
    config = RunConfig(data="folder", data_path=str(folder), epoch_size=32, batch_size=8)
    with pytest.warns(UserWarning) as record:
        data = load_data(config)
    messages = " | ".join(str(w.message) for w in record)
    assert "fake.png" in messages and "notes.txt" in messages and "tiny.png" in messages
    assert "'" + str(folder / "pipe.png") + "': a pipe (FIFO), not a regular file" in messages
    assert "gone.png" in messages and "sub" not in messages.replace("subs", "")
    assert ".hidden" not in messages and "b.jpg" not in messages
    assert isinstance(data, SyntheticPairs) and len(data.photos) == 5  # 6 usable, 1 held out
    assert data.val_clean.shape[1:] == (3, 40, 40) and data.val_clean.shape[0] >= 1
    x, _ = next(iter(data.epoch_batches(0, 8)))
    assert x.shape == (8, 3, 32, 32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = load_data(config)
    assert torch.equal(again.val_noisy, data.val_noisy)
    assert torch.equal(next(iter(again.epoch_batches(0, 8)))[0], x)


def test_single_image_folder_is_split_by_rows(tmp_path: Path) -> None:
    Image.fromarray(_photo(200, 120, 0)).save(tmp_path / "only.png")
    data = load_data(RunConfig(data="folder", data_path=str(tmp_path), epoch_size=16, batch_size=8))
    assert isinstance(data, SyntheticPairs)
    assert data.photos[0].shape == (160, 120, 3)
    assert data.val_clean.shape[2:] == (40, 40)
    assert "bottom 40 for validation" in data.description
    Image.fromarray(_photo(40, 120, 0)).save(tmp_path / "only.png")
    with pytest.raises(DataError, match=r"only\.png.*too small to split"):
        load_data(RunConfig(data="folder", data_path=str(tmp_path), epoch_size=16, batch_size=8))


def test_folder_errors(tmp_path: Path) -> None:
    def config(path: Path, **kw: object) -> RunConfig:
        return RunConfig(data="folder", data_path=str(path), epoch_size=16, batch_size=8).replace(**kw)

    with pytest.raises(DataError, match="no files"):
        load_data(config(tmp_path))
    with pytest.raises(DataError, match="not a folder"):
        load_data(config(tmp_path / "missing"))
    (tmp_path / "junk.png").write_text("no")
    with pytest.warns(UserWarning, match="junk.png"), pytest.raises(DataError, match="no usable image"):
        load_data(config(tmp_path))
    (tmp_path / "junk.png").unlink()
    Image.fromarray(_photo(20, 20, 0)).save(tmp_path / "small.png")
    with pytest.warns(UserWarning, match="small.png"), pytest.raises(DataError, match="crop_size 32"):
        load_data(config(tmp_path))


def test_large_folder_images_are_downscaled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_module.folder, "MAX_SIDE", 100)
    Image.fromarray(_photo(150, 300, 0)).save(tmp_path / "a.png")
    Image.fromarray(_photo(64, 64, 1)).save(tmp_path / "b.png")
    data = load_data(RunConfig(data="folder", data_path=str(tmp_path), epoch_size=16, batch_size=8))
    assert isinstance(data, SyntheticPairs)
    sides = [*(max(p.shape[:2]) for p in data.photos), max(data.val_clean.shape[2:])]
    assert all(s <= 100 for s in sides)


# -- course source ------------------------------------------------------------------------------


def _course_folder(root: Path, n: int = 12, h: int = 8) -> Path:
    g = torch.Generator().manual_seed(0)
    noisy_a = torch.randint(0, 256, (n, 3, h, h), dtype=torch.uint8, generator=g)
    noisy_b = torch.randint(0, 256, (n, 3, h, h), dtype=torch.uint8, generator=g)
    torch.save((noisy_a, noisy_b), root / "train_data.pkl")
    torch.save((noisy_a[:4], noisy_b[:4]), root / "val_data.pkl")
    return root


def _course(root: Path, **kw: object) -> RunConfig:
    return RunConfig(data="course", data_path=str(root), batch_size=4).replace(**kw)


def test_course_source(tmp_path: Path) -> None:
    root = _course_folder(tmp_path)
    data = load_data(_course(root, augment=False))
    assert isinstance(data, CoursePairs) and data.train_size == 12
    assert data.val_noisy.shape == (4, 3, 8, 8) and data.val_noisy.dtype == torch.float32
    batches = list(data.epoch_batches(0, 4))
    assert len(batches) == 3
    seen = torch.cat([x for x, _ in batches])
    expected = data.train_input.float() / 255
    assert sorted(seen.flatten(1).sum(1).tolist()) == pytest.approx(sorted(expected.flatten(1).sum(1).tolist()))
    again = list(load_data(_course(root, augment=False)).epoch_batches(0, 4))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(batches, again, strict=True))
    assert not torch.equal(torch.cat([x for x, _ in data.epoch_batches(1, 4)]), seen)
    # given a data_path that names the file itself
    assert load_data(_course(root / "train_data.pkl")).train_size == 12


def test_course_augmentation_is_identical_for_input_and_target(tmp_path: Path) -> None:
    same = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
    torch.save((same, same.clone()), tmp_path / "train_data.pkl")
    torch.save((same[:2], same[:2]), tmp_path / "val_data.pkl")
    data = load_data(_course(tmp_path, augment=True))
    changed = False
    for x, y in data.epoch_batches(0, 4):
        assert torch.equal(x, y)
        changed |= not any(torch.equal(x[0], s.float() / 255) for s in same)
    assert changed


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch PWNED_MARKER",))


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_course_pickled_code_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.chdir(tmp_path)
    root = _course_folder(tmp_path)
    if how == "pickle":
        with open(root / "train_data.pkl", "wb") as handle:
            pickle.dump((_Evil(), _Evil()), handle, protocol=2)
    else:
        torch.save((_Evil(), torch.zeros(1)), root / "train_data.pkl")
    with pytest.raises(DataError, match=r"refusing to load .*train_data\.pkl"):
        load_data(_course(root))
    assert not (tmp_path / "PWNED_MARKER").exists()


def test_course_errors(tmp_path: Path) -> None:
    root = _course_folder(tmp_path)
    with pytest.raises(DataError, match="clean"):
        load_data(_course(root, target="clean"))
    with pytest.raises(DataError, match=r"batch_size 20.*\(12 pairs"):
        load_data(_course(root, batch_size=20))
    torch.save((torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 4)), root / "val_data.pkl")
    with pytest.raises(DataError, match=r"val_data\.pkl.*uint8.*float32"):
        load_data(_course(root))
    torch.save((torch.zeros(2, 1, 4, 4, dtype=torch.uint8),) * 2, root / "val_data.pkl")
    with pytest.raises(DataError, match=r"N×3×H×W.*\(2, 1, 4, 4\)"):
        load_data(_course(root))
    torch.save(torch.zeros(2, 3, 4, 4, dtype=torch.uint8), root / "val_data.pkl")
    with pytest.raises(DataError, match="tuple of two tensors"):
        load_data(_course(root))
    (root / "val_data.pkl").write_bytes(b"garbage")
    with pytest.raises(DataError, match="cannot load"):
        load_data(_course(root))
    (root / "val_data.pkl").unlink()
    with pytest.raises(DataError, match=r"val_data\.pkl.*not found"):
        load_data(_course(root))
    with pytest.raises(DataError, match="not a folder"):
        load_data(_course(tmp_path / "nowhere"))


def test_channel_order_draw_permutes_channels_and_keeps_values() -> None:
    clean = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    neutral = [0, 0, math.log(1 / 0.6) / math.log(2), 0.5, 0.5, 0.5, 0.5]
    for k, order in enumerate(CHANNEL_ORDERS.tolist()):
        draws = torch.tensor([[*neutral, (k + 0.5) / len(CHANNEL_ORDERS)]], dtype=torch.float64)
        out = _colour(clean[k : k + 1], draws)
        assert torch.allclose(out[0], clean[k, order], atol=1e-6), order
    # through a data source: constant channels 0.2, 0.4, 0.6 come out in all 6 orders
    config = SMALL.replace(target="clean", batch_size=60)
    flat = np.broadcast_to(np.array([51, 102, 153], dtype=np.uint8), (40, 40, 3)).copy()
    source = SyntheticPairs([flat], config, torch.zeros(1, 3, 8, 8), "flat")
    crops = source.photo_crops(600, torch.Generator().manual_seed(4))
    ranks = {tuple(c.mean(dim=(1, 2)).argsort().tolist()) for c in crops}
    assert len(ranks) == 6
