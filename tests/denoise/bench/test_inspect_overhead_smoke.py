"""Smoke test of the inspect_every overhead benchmark: it runs and writes its JSON (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

from nnkit.denoise.bench.inspect_overhead import main


def test_inspect_overhead_quick(tmp_path: Path, capsys) -> None:
    out = tmp_path / "inspect.json"
    assert main(["--quick", "--every", "3", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    (point,) = data["points"]
    assert point["every"] == 3 and point["plain_ms"] > 0 and point["inspected_ms"] > 0
    assert "overhead" in point and "cpu" in data["machine"]
    assert "| report |" in capsys.readouterr().out
