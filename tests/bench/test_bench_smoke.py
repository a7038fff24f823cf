"""Smoke test of the benchmarks: they run and write their JSON (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.step import main


def test_step_bench_quick(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--device", "cpu", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    points = data["points"]
    assert {p["arch"] for p in points} == {"report", "unet"}
    for p in points:
        assert p["nnkit_ms"] > 0 and p["torch_ms"] > 0 and p["ratio"] > 0
        assert p["first_loss_diff"] < 1e-4  # the same network and weights on both sides
    assert "nnkit/torch" in capsys.readouterr().out
    assert "cpu" in data["machine"]
