"""The trainer's inspection: LayerStats every inspect_every steps, nothing at all when off, metrics.jsonl lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nnkit.layer_stats as layer_stats
from nnkit.denoise.cli import METRICS_NAME, train_main
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.engines import NnkitEngine
from nnkit.denoise.events import Event, LayerStats, Step
from nnkit.denoise.trainer import Trainer

CFG = RunConfig(arch="report", width=4, crop_size=16, epoch_size=32, batch_size=8, epochs=2, device="cpu", lr=1e-2)


def collect(config: RunConfig) -> tuple[list[Event], Trainer]:
    events: list[Event] = []
    trainer = Trainer(config, events.append)
    trainer.run()
    return events, trainer


def test_layer_stats_every_n_steps_with_pipelines() -> None:
    events, _ = collect(CFG.replace(inspect_every=3))
    stats = [e for e in events if isinstance(e, LayerStats)]
    assert [e.step for e in stats] == [3, 6]
    kinds = [type(e).__name__ for e in events]
    assert kinds[kinds.index("LayerStats") - 1] == "Step"  # right after the step it describes
    report = stats[0].report
    assert list(report.stats) == [f"inner.{i}" for i in range(8)]
    assert report.kinds["inner.0"] == "Conv2d" and report.kinds["inner.7"] == "Sigmoid"
    assert 0 < report.stats["inner.0"]["weight_update_ratio"] < 1
    assert set(stats[0].pipelines) == {"inner.0", "inner.2", "inner.4", "inner.6"}
    first = {s.name: s.shape for s in stats[0].pipelines["inner.0"]}
    assert first["x"] == (8, 3, 16, 16) and first["cols"] == (8, 27, 64) and first["y"] == (8, 4, 8, 8)
    assert {s.name: s.shape for s in stats[0].pipelines["inner.6"]}["up"] == (8, 4, 16, 16)


def test_inspecting_changes_no_number_of_the_run() -> None:
    config = CFG.replace(dtype="float64")
    plain = [e.loss for e in collect(config)[0] if isinstance(e, Step)]
    inspected = [e.loss for e in collect(config.replace(inspect_every=2))[0] if isinstance(e, Step)]
    assert plain == inspected


def test_inspect_every_zero_does_no_extra_work(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    probe_enter = layer_stats.LayerProbe.__enter__
    plain_step = NnkitEngine.train_step

    def counting_enter(self: layer_stats.LayerProbe) -> layer_stats.LayerProbe:
        calls.append("probe")
        return probe_enter(self)

    def checked_step(self: NnkitEngine, x, y) -> float:
        # the layers run their own class methods: no wrapper shadows forward or backward
        assert not any("forward" in m.__dict__ or "backward" in m.__dict__ for m in self.model.modules())
        calls.append("step")
        return plain_step(self, x, y)

    monkeypatch.setattr(layer_stats.LayerProbe, "__enter__", counting_enter)
    monkeypatch.setattr(NnkitEngine, "train_step", checked_step)
    monkeypatch.setattr(NnkitEngine, "inspect_step", lambda *a, **k: calls.append("inspect"))
    events, _ = collect(CFG)
    assert calls == ["step"] * 8
    assert not any(isinstance(e, LayerStats) for e in events)


def test_bad_settings_name_the_field() -> None:
    with pytest.raises(ConfigError, match="inspect_every: must be zero"):
        RunConfig(inspect_every=-1)
    with pytest.raises(ConfigError, match="inspect_every: needs engine 'nnkit'"):
        RunConfig(inspect_every=5, engine="torch")


def test_metrics_jsonl_records_the_layers(tmp_path: Path) -> None:
    tiny = ["--arch", "report", "--width", "3", "--epoch-size", "16", "--batch-size", "8", "--device", "cpu"]
    status = train_main([*tiny, "--epochs", "1", "--inspect-every", "1", "--quiet", "--out", str(tmp_path)])
    assert status == 0
    records = [json.loads(line) for line in (tmp_path / METRICS_NAME).read_text().splitlines()]
    layers = [r for r in records if r["event"] == "layers"]
    assert [r["step"] for r in layers] == [1, 2]
    assert set(layers[0]) == {"event", "step", "layers"}
    assert layers[0]["layers"]["inner.1"]["out_zero_frac"] >= 0
    assert isinstance(layers[0]["layers"]["inner.0"]["weight_grad_norm"], float)
