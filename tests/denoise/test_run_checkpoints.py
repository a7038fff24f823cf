"""RunCheckpoints (a run's latest and best files), resume_into and BestScore on their own, without a training run."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from nnkit.denoise.checkpoint import CheckpointError, load_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.epoch_validation import BestScore
from nnkit.denoise.models import build_model
from nnkit.denoise.resume import resume_into
from nnkit.denoise.run_checkpoints import RunCheckpoints, describe_error, write_run_state

CFG = RunConfig(arch="report", width=4, device="cpu")


def write(path: Path, config: RunConfig = CFG, *, epoch: int = 2, step: int = 8) -> Path:
    model = build_model(config)
    return write_run_state(
        path, model=model, engine=None, config=config, epoch=epoch, step=step, best_psnr=21.5, elapsed_s=3.0,
        with_optimizer=True, saved_optimizer=None,
    )  # fmt: skip


def test_the_best_file_sits_beside_the_latest_with_the_suffix_added(tmp_path: Path) -> None:
    files = RunCheckpoints(tmp_path / "run")
    assert files.latest == tmp_path / "run.safetensors"
    assert files.best == tmp_path / "run.best.safetensors"
    assert RunCheckpoints(None).best is None and RunCheckpoints(None).latest is None


def test_last_good_names_the_file_only_once_saved_and_there(tmp_path: Path) -> None:
    files = RunCheckpoints(tmp_path / "run.safetensors")
    assert files.last_good() == "no checkpoint of this run was saved"
    files.mark_saved(epoch=2, step=8)
    assert files.last_good() == "no checkpoint of this run was saved"  # marked, but no file on disk
    write(tmp_path / "run.safetensors")
    assert files.last_good() == f"the last good checkpoint is {tmp_path / 'run.safetensors'} (epoch 2, step 8)"


def test_continuing_the_very_file_knows_what_it_holds(tmp_path: Path) -> None:
    path = write(tmp_path / "run.safetensors")
    same, other = RunCheckpoints(tmp_path / "run"), RunCheckpoints(tmp_path / "elsewhere")
    same.continue_from(load_checkpoint(path))
    other.continue_from(load_checkpoint(path))
    assert (same.saved_epoch, same.saved_step) == (2, 8)
    assert other.saved_step is None


def test_save_at_end_leaves_a_file_that_holds_the_state_and_says_why_a_save_failed(tmp_path: Path) -> None:
    files = RunCheckpoints(tmp_path / "run")
    files.mark_saved(epoch=1, step=4)
    calls: list[int] = []

    def save() -> Path:
        calls.append(1)
        return tmp_path / "run.safetensors"

    assert files.save_at_end(save, progressed=False, force=False, can_save=True) == (str(files.latest), None)
    assert calls == []
    assert files.save_at_end(save, progressed=True, force=False, can_save=False) == (None, None)
    assert files.save_at_end(save, progressed=True, force=False, can_save=True) == (str(files.latest), None)
    assert calls == [1]

    def full_disk() -> Path:
        raise OSError(28, "No space left on device", str(files.latest))

    saved, failure = files.save_at_end(full_disk, progressed=True, force=False, can_save=True)
    assert saved is None and failure == f"{files.latest}: No space left on device"


def test_describe_error_is_one_line() -> None:
    assert describe_error(OSError(13, "Permission denied", "x/metrics.jsonl")) == "x/metrics.jsonl: Permission denied"
    assert describe_error(ValueError("bad")) == "ValueError: bad"


def test_resume_into_refuses_another_architecture_and_keeps_the_model(tmp_path: Path) -> None:
    ckpt = load_checkpoint(write(tmp_path / "run.safetensors"))
    model = build_model(RunConfig(arch="report", width=8, device="cpu"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match="width=4"):
        resume_into(model, ckpt, RunConfig(arch="report", width=8, device="cpu"))
    assert all((model.state_dict()[k] == v).all() for k, v in before.items())


def test_resume_into_keeps_the_optimiser_only_for_the_same_optimiser(tmp_path: Path) -> None:
    state = {"state": {}, "param_groups": []}
    ckpt = dataclasses.replace(load_checkpoint(write(tmp_path / "run.safetensors")), optimizer_state=state)
    same = resume_into(build_model(CFG), ckpt, CFG)
    assert same.same_batches and same.optimizer_state is state
    changed = resume_into(build_model(CFG), ckpt, RunConfig(arch="report", width=4, device="cpu", optimizer="sgd",
                                                            batch_size=CFG.batch_size * 2))
    assert changed.optimizer_state is None and not changed.same_batches


def test_best_score_takes_the_highest_psnr_or_the_lowest_loss_and_never_nan() -> None:
    best = BestScore()
    assert best.improved(20.0, math.nan, by_psnr=True) and best.psnr == 20.0
    assert not best.improved(math.nan, math.nan, by_psnr=True)
    assert not best.improved(19.0, math.nan, by_psnr=True) and best.psnr == 20.0
    assert not best.improved(20.0, math.nan, by_psnr=True)  # a tie keeps the earlier weights
    assert best.improved(math.nan, 0.5, by_psnr=False) and best.val_loss == 0.5
    assert not best.improved(math.nan, 0.7, by_psnr=False)
    assert not best.improved(math.nan, math.inf, by_psnr=False)
