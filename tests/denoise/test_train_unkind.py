"""denoise-train (and the experiments' and bench's --out) as an unkind world calls them (issue 20, item 4).

Each test says what happened before. Disk full is simulated by a file system whose writes fail
with ENOSPC from a chosen moment (the metrics file's os.write, the checkpoints' fsync).
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnkit.denoise import jsonl_log, tempfiles
from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli import CHECKPOINT_NAME, CONFIG_NAME, METRICS_NAME, train_main
from nnkit.denoise.cli import train as train_cli
from nnkit.denoise.imageio import write_image
from nnkit.denoise.run_folder import LOCK_NAME

TINY = ["--arch", "report", "--width", "4", "--epoch-size", "40", "--batch-size", "20", "--device", "cpu", "--quiet"]


def records(out: Path) -> list[dict[str, Any]]:
    """Every line of metrics.jsonl as JSON (fails on a half record)."""
    text = (out / METRICS_NAME).read_text()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


class FullDisk:
    """os for the metrics writer and the checkpoints' atomic writes: full from the ``full_at``-th metrics write."""

    def __init__(self, full_at: int) -> None:
        self.full_at = full_at
        self.writes = 0
        self.full = False

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes | memoryview) -> int:
        self.writes += 1
        if self.writes >= self.full_at:
            self.full = True
        if self.full:
            half = bytes(data[: len(data) // 2])
            if half and self.writes == self.full_at:
                os.write(fd, half)  # the disk takes half the record, then fills
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        os.fsync(fd)


def test_a_full_disk_is_one_line_naming_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog
) -> None:
    """Before: three tracebacks (cli/train.py, tempfiles.py:51, "on_event callback failed"), metrics.jsonl
    ending in ``{"eve``, and the lock file left behind."""
    disk = FullDisk(full_at=3)  # epoch 0's records, epoch 1's; then epoch 2's fail half-way
    monkeypatch.setattr(jsonl_log, "os", disk)
    monkeypatch.setattr(tempfiles, "os", disk)
    out = tmp_path / "run"
    assert train_main([*TINY, "--epochs", "3", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    first = captured.out.splitlines()[0]
    assert first == (
        f"error: training failed: {out / METRICS_NAME}: No space left on device (saving the checkpoint failed too: "
        f"{out / CHECKPOINT_NAME}: No space left on device); the last good checkpoint is {out / CHECKPOINT_NAME} "
        "(epoch 1, step 2)"
    )
    assert "Traceback" not in captured.out + captured.err + caplog.text
    assert captured.err.count("No space left") == 0  # said once, in the summary
    assert [r["event"] for r in records(out)][-1] == "epoch"  # whole records only, the half one undone
    assert not (out / LOCK_NAME).exists()
    assert [p.name for p in out.iterdir() if tempfiles.is_temp_file(p)] == []
    assert load_checkpoint(out / CHECKPOINT_NAME).step == 2


def test_a_disk_full_from_the_start_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    disk = FullDisk(full_at=1)
    disk.full = True
    monkeypatch.setattr(jsonl_log, "os", disk)
    monkeypatch.setattr(tempfiles, "os", disk)
    out = tmp_path / "run"
    assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [f"error: training failed: {out / CONFIG_NAME}: No space left on device"]
    assert "Traceback" not in captured.err and sorted(p.name for p in out.iterdir()) == []


def test_a_metrics_write_cut_short_leaves_no_half_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = FullDisk(full_at=2)
    monkeypatch.setattr(jsonl_log, "os", disk)
    log = jsonl_log.JsonlLog(tmp_path / "m.jsonl")
    log.write({"event": "a"})
    log.flush()
    log.write({"event": "b", "text": "x" * 100})
    with pytest.raises(OSError, match="No space left") as caught:
        log.flush()
    assert caught.value.filename == str(tmp_path / "m.jsonl")
    log.write({"event": "c"})  # dropped: the error was reported once
    log.close()
    assert (tmp_path / "m.jsonl").read_text() == '{"event": "a"}\n'


def test_nproc_with_an_absent_gpu_is_refused_before_any_process_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: two AttributeError tracebacks (_cuda_setDevice), then a "last saved checkpoint" in a folder that
    does not exist."""
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr(train_cli, "launch", lambda *a: pytest.fail("processes were started"))
    out = tmp_path / "cuda3"
    assert train_main([*TINY, "--epochs", "1", "--nproc", "2", "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("denoise-train: error: --device: cuda not found: no CUDA device")
    assert "Traceback" not in err and not out.exists()


def test_nproc_with_fewer_gpus_than_processes(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setattr("torch.cuda.device_count", lambda: 1)
    monkeypatch.setattr("torch.cuda.current_device", lambda: 0)
    monkeypatch.setattr(train_cli, "launch", lambda *a: pytest.fail("processes were started"))
    assert train_main([*TINY, "--nproc", "2", "--device", "cuda", "--out", str(tmp_path / "o")]) == 2
    assert "needs a CUDA device per process, this machine has 1" in capsys.readouterr().err


def test_more_processes_than_cores_is_a_warning(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    """Before: --nproc 64 on 2 cores ran without a word."""
    monkeypatch.setattr(train_cli, "cpu_cores", lambda: 2)
    monkeypatch.setattr(train_cli, "launch", lambda argv, nproc, out: 0)
    flags = [*TINY[:4], "--epoch-size", "128", "--batch-size", "64", "--device", "cpu", "--quiet"]
    assert train_main([*flags, "--nproc", "64", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "denoise-train: warning: --nproc 64 starts more processes than this machine's 2 CPU cores: they share "
        "them, and each step is slower than with --nproc 2"
    ]
    assert train_main([*flags, "--nproc", "2", "--out", str(tmp_path / "p")]) == 0
    assert capsys.readouterr().err == ""


def test_a_batch_larger_than_an_epoch_is_refused_at_argument_time(tmp_path: Path, capsys) -> None:
    """Before: it failed at run time, printed twice, and left an empty --out folder (exit 1)."""
    out = tmp_path / "b1"
    assert train_main([*TINY, "--batch-size", "1000", "--epoch-size", "64", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("--batch-size 1000 is larger than --epoch-size 64") == 1 and captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("kind", ["missing", "empty", "a file"])
def test_data_folder_errors_are_usage_errors(tmp_path: Path, kind: str, capsys) -> None:
    """Before: exit 1, the message printed twice, an empty --out folder left."""
    folder = tmp_path / "photos"
    if kind == "empty":
        folder.mkdir()
    elif kind == "a file":
        folder.write_text("x")
    out = tmp_path / "run"
    assert train_main([*TINY, "--data", "folder", "--data-path", str(folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("denoise-train: error: ") and str(folder) in err[0]
    assert not out.exists()


def test_warnings_print_as_the_program_not_as_python(tmp_path: Path, capsys) -> None:
    """Before: '/.../data/__init__.py:87: UserWarning: skipping ...' and the source line under it."""
    folder = tmp_path / "photos"
    folder.mkdir()
    write_image(folder / "a.png", np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8))
    (folder / "notes.txt").write_text("x")
    flags = ["--data", "folder", "--data-path", str(folder), "--epoch-size", "8", "--batch-size", "4"]
    flags += ["--crop-size", "16"]
    assert train_main([*TINY, *flags, "--epochs", "1", "--no-score-photos", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert f"denoise-train: warning: skipping '{folder / 'notes.txt'}': not an image file (suffix .txt)\n" in err
    assert "UserWarning" not in err and ".py:" not in err


def finished_run(tmp_path: Path, epochs: int = 1) -> Path:
    out = tmp_path / "run"
    assert train_main([*TINY, "--epochs", str(epochs), "--out", str(out)]) == 0
    return out


def test_a_metrics_file_cut_mid_line_is_repaired_on_resume(tmp_path: Path, capsys) -> None:
    """Before: the resumed run's first record was glued to the half line: unparsable."""
    out = finished_run(tmp_path)
    with (out / METRICS_NAME).open("a") as f:
        f.write('{"event": "st')
    capsys.readouterr()
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--quiet"]) == 0
    kinds = [r["event"] for r in records(out)]
    assert kinds.count("started") == 2 and kinds[-1] == "finished"
    assert f"denoise-train: note: {out / METRICS_NAME}: dropped a half record at its end (13 bytes" in (
        capsys.readouterr().err
    )


def test_resume_after_a_kill_mid_epoch_leaves_no_duplicate_steps(tmp_path: Path, capsys) -> None:
    """Before: after SIGTERM mid-epoch and a resume, metrics.jsonl held 929 duplicate step numbers.

    The killed session's records past its checkpoint are those a kill leaves (steps 3 and 4 of
    epoch 2, trained but never saved); the resumed run trains those steps again.
    """
    out = finished_run(tmp_path)
    with (out / METRICS_NAME).open("a") as f:
        for step in (3, 4):
            f.write(json.dumps({"event": "step", "step": step, "epoch": 2, "loss": 0.1, "images_per_s": 1.0}) + "\n")
        f.write(json.dumps({"event": "epoch", "epoch": 2, "train_loss": 0.1, "val_psnr": 20.0}) + "\n")
    capsys.readouterr()
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--quiet"]) == 0
    all_records = records(out)
    steps = [r["step"] for r in all_records if r["event"] == "step"]
    assert steps == [1, 2, 3, 4]
    assert [r["epoch"] for r in all_records if r["event"] == "epoch"] == [0, 1, 2]
    assert "moved 3 records past the resumed checkpoint's step 2" in capsys.readouterr().err
    side = [json.loads(line) for line in (out / "metrics.superseded.jsonl").read_text().splitlines()]
    assert [(r["event"], r.get("step")) for r in side] == [("step", 3), ("step", 4), ("epoch", None)]


def test_a_real_sigterm_mid_epoch_then_resume(tmp_path: Path) -> None:
    """The same through a real SIGTERM of a training process mid-epoch (as issue 20 did it)."""
    import signal
    import subprocess
    import time

    out = tmp_path / "run"
    flags = [*TINY[:4], "--epoch-size", "4000", "--batch-size", "20", "--device", "cpu", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", "import sys; from nnkit.denoise.cli import train_main; "
               "sys.exit(train_main(sys.argv[1:]))"]
    process = subprocess.Popen([*command, *flags, "--epochs", "2", "--out", str(out)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait for the first checkpoint and some steps of epoch 2
            time.sleep(0.2)
            if (out / CHECKPOINT_NAME).exists() and '"epoch": 2' in (out / METRICS_NAME).read_text():
                break
        else:
            pytest.fail("the run saved no checkpoint in time")
        os.kill(process.pid, signal.SIGTERM)
    finally:
        process.wait(30)
    saved = load_checkpoint(out / CHECKPOINT_NAME).step
    written = [r["step"] for r in records_whole(out) if r["event"] == "step"]
    assert max(written) > saved  # steps past the checkpoint were written, then lost with the kill
    resumed = subprocess.run(
        [*command, "--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--quiet"], env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    steps = [r["step"] for r in records(out) if r["event"] == "step"]
    assert steps == list(range(1, len(steps) + 1))


def records_whole(out: Path) -> list[dict[str, Any]]:
    """The whole records of metrics.jsonl (a kill may cut the last one)."""
    return [json.loads(line) for line in (out / METRICS_NAME).read_text().splitlines(keepends=True)
            if line.endswith("\n")]


def test_an_edited_config_json_is_not_silently_overwritten(tmp_path: Path, capsys) -> None:
    """Before: a resume wrote config.json anew; the edit (here a learning rate) was lost and never applied."""
    out = finished_run(tmp_path)
    config = json.loads((out / CONFIG_NAME).read_text())
    config["lr"] = 0.5
    (out / CONFIG_NAME).write_text(json.dumps(config))
    before = (out / CONFIG_NAME).read_text()
    capsys.readouterr()
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"denoise-train: error: --resume: {out / CONFIG_NAME} was edited since the run wrote it "
                          "(lr is 0.5 there, 0.001 in the run)")
    assert "--lr" in err and (out / CONFIG_NAME).read_text() == before
    # what the message says to do: the flag, and the run goes on with it
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--lr", "0.5", "--quiet"]) == 0
    assert json.loads((out / CONFIG_NAME).read_text())["lr"] == 0.5


@pytest.mark.parametrize("script", ["experiments", "bench"])
@pytest.mark.parametrize("kind", ["a folder", "in a file", "read-only"])
def test_experiments_and_bench_check_out_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, script: str, kind: str
) -> None:
    """Before: a read-only or missing --out gave a traceback after the whole run, and the results were lost."""
    from nnkit.denoise import experiments
    from nnkit.denoise.bench import step

    monkeypatch.setattr(experiments, "run_experiments", lambda *a, **k: pytest.fail("the run started"))
    monkeypatch.setattr(step, "measure", lambda *a, **k: pytest.fail("the run started"))
    if kind == "a folder":
        out = tmp_path
    elif kind == "in a file":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "results.md"
    else:
        if not Path("/proc/self").is_dir():
            pytest.skip("needs /proc, a file system no one may write to (root included)")
        out = Path("/proc/denoise-results/results.md")
    main = experiments.main if script == "experiments" else step.main
    code: object
    try:
        code = main(["--quick", "--device", "cpu", "--out", str(out)])
    except SystemExit as exc:  # argparse's parser.error
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"denoise-{script}: error: --out {out}") and "Traceback" not in err
