"""Smoke test of the benchmarks: they run and write their JSON (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from nnkit.denoise.bench.step import main


def test_step_bench_quick(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--device", "cpu", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    points = data["points"]
    assert {p["arch"] for p in points} == {"report", "report-way", "unet"}
    for p in points:
        assert p["nnkit_ms"] > 0 and p["torch_ms"] > 0 and p["ratio"] > 0
        assert p["first_loss_diff"] < 1e-4  # the same network and weights on both sides
    printed = capsys.readouterr().out
    assert "nnkit/torch" in printed and "cpu" in data["machine"]
    # a smoke run's times are first-call overhead: no ratio is printed as if it were a measurement
    assert "ratio" not in printed.replace("no nnkit/torch ratio is shown", "")
    assert "smoke run" in printed and data["quick"] is True
    assert all(row.rstrip().endswith("| — |") for row in printed.splitlines() if row.startswith("| cpu"))


def test_profile_step_prints_both_tables(capsys) -> None:
    from nnkit.denoise.bench.profile_step import main as profile_main

    assert profile_main(["--arch", "unet", "--width", "4", "--batch", "2", "--steps", "1", "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    assert "== nnkit: unet" in out and "== torch.nn + autograd" in out
    assert "aten::mm" in out  # nnkit's convolutions are matrix products


def test_cuda_only_modes_are_ignored_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--device", "cpu", "--graph", "--torch-graph", "--tf32", "--out", str(out)]) == 0
    points = json.loads(out.read_text())["points"]
    assert points and not any(p["graph"] or p["torch_graph"] or p["tf32"] for p in points)


def test_a_missing_cuda_device_is_a_clear_error(capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from nnkit.denoise.bench.profile_step import main as profile_main

    for run in (lambda: main(["--quick", "--device", "cuda"]), lambda: profile_main(["--device", "cuda"])):
        with pytest.raises(SystemExit) as exit_info:
            run()
        assert exit_info.value.code == 2
        assert "no CUDA device" in capsys.readouterr().err


def test_parallel_throughput_bench_runs_and_writes_json(tmp_path: Path, capsys) -> None:
    from nnkit.denoise.bench.parallel_throughput import main as throughput_main

    out = tmp_path / "throughput.json"
    tiny = ["--arch", "report", "--width", "4", "--batch-size", "4", "--crop-size", "16", "--epoch-size", "16"]
    assert throughput_main(["--nproc", "1", *tiny, "--epochs", "2", "--out", str(out)]) == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert row["nproc"] == 1 and row["images_per_s"] > 0 and row["steps_measured"] == 4
    assert "| 1 |" in capsys.readouterr().out


def test_photo_time_bench_runs(tmp_path: Path) -> None:
    from nnkit.denoise.bench.photo_time import main as photo_main

    out = tmp_path / "photo.json"
    assert photo_main(["--repeats", "1", "--threads", "1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["photo"] == "640x427" and len(result["rows"]) == 3
    assert all(row["min_s"] > 0 for row in result["rows"].values())
