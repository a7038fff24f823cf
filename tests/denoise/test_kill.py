"""A run killed with SIGKILL at random moments: every surviving checkpoint loads and resumes, no temp file survives."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli import CHECKPOINT_NAME, train_main
from nnkit.denoise.run_folder import LOCK_NAME

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

SCRIPT = "import sys; from nnkit.denoise.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
FLAGS = ["--arch", "report", "--width", "4", "--epoch-size", "40", "--batch-size", "10", "--crop-size", "16"]
KILLS = 3


def start(args: list[str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, *args, "--device", "cpu", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )


def wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the run ended ({process.returncode}) before {path.name}: {process.stderr!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {path} after {timeout} s")
        time.sleep(0.02)


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(0)
    out = tmp_path / "run"
    latest = out / CHECKPOINT_NAME
    epochs_seen = []
    for kill in range(KILLS):
        fresh = [*FLAGS, "--epochs", "10000", "--out", str(out)]
        args = ["--resume", str(latest), "--epochs", "10000"] if kill else fresh
        process = start(args)
        wait_for(latest, process)
        if kill:  # the resumed run must get past the checkpoint it started from
            first = load_checkpoint(latest).epoch
            while load_checkpoint(latest).epoch == first and process.poll() is None:
                time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.8))  # anywhere in an epoch, a checkpoint write included
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert process.returncode == -signal.SIGKILL
        assert (out / LOCK_NAME).exists()  # a killed process leaves its lock file: the next run must see it is stale
        ckpt = load_checkpoint(latest)  # every surviving checkpoint loads
        assert ckpt.optimizer_state is not None and ckpt.epoch >= 1
        epochs_seen.append(ckpt.epoch)
    assert epochs_seen == sorted(epochs_seen) and epochs_seen[-1] > epochs_seen[0]

    # the last survivor resumes to the end; afterwards no temporary file and no lock remain
    ckpt = load_checkpoint(latest)
    assert train_main(["--resume", str(latest), "--epochs", str(ckpt.epoch + 1), "--device", "cpu", "--quiet"]) == 0
    assert load_checkpoint(latest).epoch == ckpt.epoch + 1
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".tmp") or p.name == LOCK_NAME]
    assert leftovers == []
