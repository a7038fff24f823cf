"""Data-parallel training (torch.distributed, gloo on the CPU) as a user runs it: the numbers of one process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from safetensors.torch import load_file

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli import train_main
from nnkit.denoise.cli.parallel import failure_summary, without_nproc
from nnkit.denoise.distributed import GradientAverager, Group, _backend_reason

pytestmark = pytest.mark.slow

TINY = ["--arch", "report", "--width", "8", "--crop-size", "16", "--epoch-size", "64", "--batch-size", "8"]
EXACT = [*TINY, "--epochs", "2", "--dtype", "float64", "--seed", "3", "--quiet"]
RANK_PROGRAM = [sys.executable, "-m", "nnkit.denoise.cli.train_rank"]


def _run(cmd: list[str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _metrics(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def _assert_same_run(one: Path, many: Path) -> None:
    a, b = load_file(str(one / "checkpoint.safetensors")), load_file(str(many / "checkpoint.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        if a[key].is_floating_point():
            scale = a[key].abs().max().clamp(min=1e-30)
            assert ((a[key] - b[key]).abs().max() / scale).item() < 1e-10, key
        else:
            assert torch.equal(a[key], b[key]), key
    ma, mb = _metrics(one), _metrics(many)
    assert [m["event"] for m in ma] == [m["event"] for m in mb]
    for x, y in zip(ma, mb, strict=True):
        for field in ("loss", "train_loss", "val_psnr"):
            if isinstance(x.get(field), float):
                assert y[field] == pytest.approx(x[field], rel=1e-10, abs=1e-12), (x, y)
    assert sorted(p.name for p in many.iterdir()) == sorted(p.name for p in one.iterdir())


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one") / "run"
    assert train_main([*EXACT, "--out", str(out)]) == 0
    return out


def test_nproc_2_equals_one_process_with_the_same_global_batch(one_process: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = _run([*RANK_PROGRAM, *EXACT, "--nproc", "2", "--out", str(out)], cwd=tmp_path / "cwd")
    assert result.returncode == 0, result.stderr
    _assert_same_run(one_process, out)
    assert not any((tmp_path / "cwd").iterdir())  # the other rank wrote nothing anywhere


def test_torchrun_form_equals_one_process(one_process: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    script = shutil.which("denoise-train")
    program = [script] if script else ["--module", "nnkit.denoise.cli.train_rank"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    result = _run([*launcher, *program, *EXACT, "--out", str(out)], cwd=tmp_path / "cwd")
    assert result.returncode == 0, result.stderr
    _assert_same_run(one_process, out)


def _pids_with(marker: str, rank: int) -> list[int]:
    """Processes whose environment carries our marker and RANK=rank (torchrun's workers of this test)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"DENOISE_TEST_RUN={marker}".encode() in env and f"RANK={rank}".encode() in env:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the worker through /proc")
def test_a_killed_rank_ends_the_run_with_a_message_and_the_checkpoint_resumes(tmp_path: Path) -> None:
    out, marker = tmp_path / "run", uuid.uuid4().hex
    env = {**os.environ, "DENOISE_TEST_RUN": marker}
    cmd = [*RANK_PROGRAM, *TINY, "--epochs", "500", "--quiet", "--nproc", "2", "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until an epoch has finished
            metrics = out / "metrics.jsonl"
            if metrics.exists() and any('"epoch": 1,' in line for line in metrics.read_text().splitlines()):
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        else:
            pytest.fail("no epoch finished within 120 s")
        victims = _pids_with(marker, rank=1)
        assert len(victims) == 1, victims
        os.kill(victims[0], signal.SIGKILL)
        killed = time.monotonic()
        stdout, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - killed
    finally:
        if proc.poll() is None:
            proc.kill()
    said = f"exit {proc.returncode} after {took:.1f} s\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert proc.returncode == 1, said
    assert took < 30, said  # seconds, not the 10-minute collective timeout (a loaded CI machine is slow)
    assert "lost contact with the other training processes" in stdout + stderr, said  # rank 0 says why
    assert "rank 1 was killed by SIGKILL" in stderr, said  # the launcher says who
    assert "Traceback" not in stderr, said
    ckpt = load_checkpoint(out / "checkpoint.safetensors")
    assert ckpt.epoch >= 1 and ckpt.optimizer_state is not None
    resumed = _run(
        [*RANK_PROGRAM, "--resume", str(out / "checkpoint.safetensors"), "--epochs", str(ckpt.epoch + 1), "--quiet"],
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert load_checkpoint(out / "checkpoint.safetensors").epoch == ckpt.epoch + 1


# -- in-process pieces -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--nproc", "3"], "--batch-size: 8 does not split over 3 processes"),
        (["--nproc", "0"], "--nproc must be between 1 and 64"),
        (["--nproc", "2", "--engine", "torch"], "--engine: data-parallel training runs the nnkit engine"),
    ],
)
def test_settings_a_parallel_run_cannot_honour_are_usage_errors(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert train_main([*TINY, *extra, "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_without_nproc_drops_both_spellings() -> None:
    assert without_nproc(["--epochs", "3", "--nproc", "2", "--quiet", "--nproc=4"]) == ["--epochs", "3", "--quiet"]


def test_failure_summary_names_the_killed_rank_first() -> None:
    class Failure:
        def __init__(self, exitcode: int) -> None:
            self.exitcode = exitcode

    text = failure_summary({0: Failure(1), 1: Failure(-9)}, 2, Path("runs/x"))
    assert text.index("rank 1 was killed by SIGKILL") < text.index("rank 0 exited with status 1")
    assert "runs/x" in text


def test_backend_reason_keeps_the_useful_part() -> None:
    gloo = RuntimeError("[/x/gloo/pair.cc:553] Connection closed by peer [127.0.0.1]:59017. This is typically ...")
    assert _backend_reason(gloo) == "Connection closed by peer [127.0.0.1]:59017"


@pytest.fixture
def solo_group() -> Iterator[Group]:
    """A one-process gloo group: the averaging code runs for real (the mean over one rank is the value)."""
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    yield Group(rank=0, world_size=1, local_rank=0, backend="gloo")
    dist.destroy_process_group()


def test_gradient_averager_buckets_and_carries_the_loss(solo_group: Group) -> None:
    torch.manual_seed(0)
    grads = [torch.randn(3, 4, dtype=torch.float64), torch.randn(7, dtype=torch.float64), torch.randn(2, 2, 5)]
    grads[2] = grads[2].double()
    before = [g.clone() for g in grads]
    averager = GradientAverager(solo_group, lambda: grads, bucket_bytes=8 * 12)  # one gradient a bucket
    loss = torch.tensor(0.25, dtype=torch.float64)
    averager(loss)
    assert averager._buckets is not None and len(averager._buckets) == 3
    assert averager._buckets[-1][0].numel() == 20 + 1  # the loss rides in the last bucket
    for g, b in zip(grads, before, strict=True):
        assert torch.equal(g, b)
    assert loss.item() == 0.25
