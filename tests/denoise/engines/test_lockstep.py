"""Lockstep: nnkit and its torch.nn twin trained side by side from the same weights on the same batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nnkit.denoise.cli import METRICS_NAME, train_main
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.events import Event, Lockstep, Step
from nnkit.denoise.trainer import Trainer

CFG = RunConfig(width=4, crop_size=16, epoch_size=24, batch_size=8, epochs=2, device="cpu", lockstep=True)


def run(config: RunConfig) -> list[Event]:
    events: list[Event] = []
    Trainer(config, events.append).run()
    return events


@pytest.mark.parametrize("arch", ["report", "unet"])
def test_float64_lockstep_stays_below_1e_12(arch: str) -> None:
    events = run(CFG.replace(arch=arch, dtype="float64", inspect_every=2))
    drift = [e for e in events if isinstance(e, Lockstep)]
    steps = [e for e in events if isinstance(e, Step)]
    assert [d.step for d in drift] == [s.step for s in steps] == list(range(1, 7))
    assert [d.loss_nnkit for d in drift] == [s.loss for s in steps]
    assert max(d.loss_rel_diff for d in drift) < 1e-12
    assert max(d.weight_rel_diff for d in drift) < 1e-12


def test_float32_drift_is_small_but_measured() -> None:
    drift = [e for e in run(CFG.replace(arch="report")) if isinstance(e, Lockstep)]
    assert 0 < max(d.weight_rel_diff for d in drift) < 1e-3


def test_lockstep_needs_the_nnkit_engine() -> None:
    with pytest.raises(ConfigError, match="lockstep: needs engine 'nnkit'"):
        RunConfig(lockstep=True, engine="torch")


def test_denoise_train_lockstep_writes_the_drift(tmp_path: Path) -> None:
    tiny = ["--arch", "report", "--width", "3", "--epoch-size", "16", "--batch-size", "8", "--device", "cpu"]
    assert train_main([*tiny, "--epochs", "1", "--lockstep", "--quiet", "--out", str(tmp_path)]) == 0
    records = [json.loads(line) for line in (tmp_path / METRICS_NAME).read_text().splitlines()]
    drift = [r for r in records if r["event"] == "lockstep"]
    assert [r["step"] for r in drift] == [1, 2]
    assert set(drift[0]) == {"event", "step", "loss_nnkit", "loss_torch", "loss_rel_diff", "weight_rel_diff"}
