"""ParallelTrainer: a `denoise-train --nproc 2` run followed as Trainer events (what the app uses)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli.train import build_train_parser
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Event, Started, Step
from nnkit.denoise.parallel_run import ParallelTrainer, config_flags

pytestmark = pytest.mark.slow

TINY = RunConfig(arch="report", width=8, crop_size=16, epoch_size=64, batch_size=8, epochs=2, seed=1)


def test_config_flags_rebuild_the_config_exactly() -> None:
    config = TINY.replace(lr=3.5e-4, augment=False, nesterov=True, optimizer="sgd", momentum=0.5, device="cpu")
    args = build_train_parser().parse_args(config_flags(config))
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(RunConfig)}
    assert RunConfig(**given) == config


def test_a_two_process_run_reports_like_a_trainer(tmp_path: Path) -> None:
    events: list[Event] = []
    ckpt = tmp_path / "run-0001" / "checkpoint.safetensors"
    trainer = ParallelTrainer(TINY, events.append, checkpoint_path=ckpt, nproc=2)
    finished = trainer.run()
    assert finished.reason == "done", finished.message
    kinds = [type(e) for e in events]
    assert kinds[0] is Started and "×2 processes" in events[0].device  # type: ignore[attr-defined]
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == list(range(1, 2 * 64 // 8 + 1))
    assert [e.epoch for e in events if isinstance(e, Epoch)] == [0, 1, 2]
    assert finished.checkpoint == str(ckpt) and load_checkpoint(ckpt).epoch == 2
    assert (ckpt.parent / "checkpoint.best.safetensors").is_file()


def test_stop_reaches_every_process_and_the_run_is_saved(tmp_path: Path) -> None:
    ckpt = tmp_path / "run" / "checkpoint.safetensors"
    first_epoch = threading.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, Epoch) and event.epoch >= 1:
            first_epoch.set()

    trainer = ParallelTrainer(TINY.replace(epochs=500), on_event, checkpoint_path=ckpt, nproc=2)
    stopper = threading.Thread(target=lambda: first_epoch.wait(120) and trainer.request_stop())
    stopper.start()
    finished = trainer.run()
    stopper.join()
    assert finished.reason == "stopped", finished.message
    assert 1 <= load_checkpoint(ckpt).epoch < 500


def test_pause_is_refused_with_the_reason() -> None:
    trainer = ParallelTrainer(TINY, checkpoint_path=Path("unused/checkpoint.safetensors"), nproc=2)
    with pytest.raises(NotImplementedError, match="cannot pause"):
        trainer.pause()
