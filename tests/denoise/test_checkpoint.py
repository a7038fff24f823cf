"""Checkpoints: round trip into nnkit and the torch.nn twin, atomic writes, clear errors for bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from nnkit.denoise.checkpoint import (
    FORMAT_VERSION,
    KIND,
    CheckpointError,
    load_checkpoint,
    model_from_checkpoint,
    save_checkpoint,
)
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines import Engine, make_engine
from nnkit.denoise.engines.twin import twin_of
from nnkit.denoise.models import build_model

CFG = RunConfig(arch="unet", width=4, device="cpu", crop_size=16, epoch_size=16, batch_size=4, lr=1e-2)


def trained_engine(config: RunConfig = CFG) -> Engine:
    engine = make_engine(config, build_model(config))
    for _ in range(2):
        engine.train_step(torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16))
    return engine


def write(tmp_path: Path, config: RunConfig = CFG, name: str = "run") -> Path:
    engine = trained_engine(config)
    return save_checkpoint(
        tmp_path / name,
        weights=engine.model_state(),
        optimizer_state=engine.optimizer_state(),
        config=config,
        epoch=3,
        step=42,
        best_psnr=27.5,
    )


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("engine_name", ["nnkit", "torch"])
def test_round_trip(tmp_path: Path, optimizer: str, engine_name: str) -> None:
    config = CFG.replace(optimizer=optimizer, engine=engine_name)
    engine = trained_engine(config)
    path = save_checkpoint(
        tmp_path / "run.safetensors",
        weights=engine.model_state(),
        optimizer_state=engine.optimizer_state(),
        config=config,
        epoch=3,
        step=42,
        best_psnr=27.5,
    )
    ckpt = load_checkpoint(path)
    assert (ckpt.config, ckpt.epoch, ckpt.step, ckpt.best_psnr) == (config, 3, 42, 27.5)
    assert ckpt.format_version == FORMAT_VERSION and ckpt.path == str(path)
    for name, value in engine.model_state().items():
        assert torch.equal(ckpt.weights[name], value), name
    other = make_engine(config, build_model(config.replace(seed=9)))
    assert ckpt.optimizer_state is not None
    other.load_optimizer_state(ckpt.optimizer_state)
    other.load_model_state(ckpt.weights)
    x, y = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    assert engine.train_step(x, y) == other.train_step(x, y)
    for a, b in zip(engine.parameter_tensors(), other.parameter_tensors(), strict=True):
        assert torch.equal(a, b)


def test_loads_into_nnkit_model_and_its_twin(tmp_path: Path) -> None:
    ckpt = load_checkpoint(write(tmp_path))
    model = model_from_checkpoint(ckpt)
    twin = twin_of(build_model(CFG.replace(seed=5)))
    twin.load_state_dict(ckpt.weights)
    x = torch.rand(1, 3, 21, 18)
    with torch.no_grad():
        torch.testing.assert_close(model(x), twin(x), rtol=1e-5, atol=1e-6)
    assert not model.training


def test_suffix_added_and_no_temporary_left(tmp_path: Path) -> None:
    path = write(tmp_path, name="plain")
    assert path.name == "plain.safetensors"
    write(tmp_path, name="plain")  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.safetensors"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)  # the atomic write renames with os.replace
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_nan_best_psnr_and_no_optimizer(tmp_path: Path) -> None:
    path = save_checkpoint(
        tmp_path / "x", weights=build_model(CFG).state_dict(), optimizer_state=None, config=CFG, epoch=0, step=0,
        best_psnr=float("nan"),
    )
    ckpt = load_checkpoint(path)
    assert ckpt.optimizer_state is None and ckpt.best_psnr != ckpt.best_psnr


def expect_error(path: Path, match: str) -> None:
    with pytest.raises(CheckpointError, match=match) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_missing_and_directory(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.safetensors", "no such file")
    expect_error(tmp_path, "is a folder")


def test_not_safetensors(tmp_path: Path) -> None:
    text = tmp_path / "notes.safetensors"
    text.write_text("hello, I am not a checkpoint\n" * 10)
    expect_error(text, "not a readable safetensors file")
    pickled = tmp_path / "model.pth"
    torch.save({"weight": torch.zeros(3)}, pickled)
    expect_error(pickled, "not a readable safetensors file")


@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated(tmp_path: Path, keep: float) -> None:
    path = write(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    expect_error(path, "corrupt, truncated")


def test_corrupt_header(tmp_path: Path) -> None:
    path = write(tmp_path)
    data = bytearray(path.read_bytes())
    data[10:40] = b"\xff" * 30
    path.write_bytes(bytes(data))
    expect_error(path, "corrupt, truncated")


def test_plain_safetensors_without_marker(tmp_path: Path) -> None:
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(2, 2)}, str(path))
    expect_error(path, "not a denoise-gui checkpoint")


def _rewrite(src: Path, dst: Path, metadata_changes: dict[str, str], tensors: dict | None = None) -> Path:
    from safetensors import safe_open

    with safe_open(str(src), framework="pt") as f:
        meta = dict(f.metadata())
        data = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    meta.update(metadata_changes)
    save_file(tensors if tensors is not None else data, str(dst), metadata=meta)
    return dst


def test_newer_format_version(tmp_path: Path) -> None:
    path = _rewrite(write(tmp_path), tmp_path / "new.safetensors", {"format_version": str(FORMAT_VERSION + 1)})
    expect_error(path, "newer than this program reads")


def test_bad_config_metadata(tmp_path: Path) -> None:
    src = write(tmp_path)
    expect_error(_rewrite(src, tmp_path / "a.safetensors", {"config": "{not json"}), "not valid JSON")
    bad = json.dumps({**CFG.to_dict(), "width": -3})
    expect_error(_rewrite(src, tmp_path / "b.safetensors", {"config": bad}), "width")


def test_weights_of_another_architecture(tmp_path: Path) -> None:
    report = RunConfig(arch="report", width=4)
    path = save_checkpoint(
        tmp_path / "mixed", weights=build_model(report).state_dict(), optimizer_state=None, config=CFG, epoch=0,
        step=0, best_psnr=float("nan"),
    )
    expect_error(path, "do not fit arch='unet' width=4")
    wider = save_checkpoint(
        tmp_path / "wider", weights=build_model(CFG.replace(width=8)).state_dict(), optimizer_state=None, config=CFG,
        epoch=0, step=0, best_psnr=float("nan"),
    )
    expect_error(wider, "wrong shapes")


def test_nan_weights_rejected(tmp_path: Path) -> None:
    weights = build_model(CFG).state_dict()
    next(iter(weights.values())).fill_(float("nan"))
    path = save_checkpoint(
        tmp_path / "nan", weights=weights, optimizer_state=None, config=CFG, epoch=0, step=0, best_psnr=float("nan")
    )
    expect_error(path, "NaN or Inf")


def test_metadata_is_readable_json(tmp_path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(write(tmp_path)), framework="pt") as f:
        meta = f.metadata()
    assert meta["kind"] == KIND
    assert json.loads(meta["config"])["arch"] == "unet"
    assert json.loads(meta["optim"])["param_groups"][0]["lr"] == pytest.approx(1e-2)


def test_the_shipped_checkpoint_names_no_file_of_the_machine_it_was_made_on() -> None:
    # "Train from this checkpoint" copies the config: a path of the build machine would be read then
    from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT

    config = load_checkpoint(SHIPPED_CHECKPOINT).config
    assert config.init_from == "" and config.data_path == "" and config.clean_path == ""


def test_the_shipped_checkpoint_round_trips(tmp_path: Path) -> None:
    # the shipped model is saved again (as "Train from this checkpoint" and fine-tuning do) and loads the same
    from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT

    shipped = load_checkpoint(SHIPPED_CHECKPOINT)
    assert shipped.config.noise_range == (0.0, 50.0) and shipped.config.arch == "unet"
    again = load_checkpoint(
        save_checkpoint(
            tmp_path / "again.safetensors",
            weights=shipped.weights,
            optimizer_state=shipped.optimizer_state,
            config=shipped.config,
            epoch=shipped.epoch,
            step=shipped.step,
            best_psnr=shipped.best_psnr,
            elapsed_s=shipped.elapsed_s,
        )
    )
    assert again.config == shipped.config and (again.epoch, again.step) == (shipped.epoch, shipped.step)
    assert again.weights.keys() == shipped.weights.keys()
    assert all(torch.equal(again.weights[k], v) for k, v in shipped.weights.items())
    x = torch.rand(1, 3, 24, 24, generator=torch.Generator().manual_seed(0))
    first, second = model_from_checkpoint(shipped), model_from_checkpoint(again)
    assert torch.equal(first(x), second(x))
