"""A data-parallel run followed from the outside: ``denoise-train --nproc N`` as a Trainer look-alike.

The app (or any caller) that wants N local processes starts the command-line trainer, which
goes through torch's own launcher, and follows rank 0's ``metrics.jsonl`` as it grows: each
record becomes the event a Trainer would have sent (Started, Step, Epoch, LayerStats are not
replayed; there are no Preview images across processes). The caller keeps its threading
model: ``run()`` blocks and calls ``on_event`` from the calling thread, ``request_stop()``
may be called from any thread.

The command's own files live in a ``processes/`` folder of the caller's run folder; at the
end its checkpoints are moved to the caller's checkpoint path (and ``.best`` beside it).
Stopping sends SIGTERM to the launcher, which passes it to every process: each stops after
the same step and rank 0 saves (see nnkit.denoise.cli.parallel). Pausing is not offered: the
processes wait on each other in every step, so a long pause would look like a dead peer.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Event, Finished, Started, Step

POLL_S = 0.1
RUN_FOLDER = "processes"  # suffix of the command-line run's own folder, beside the caller's checkpoint


def config_flags(config: RunConfig) -> list[str]:
    """The denoise-train flags that rebuild ``config`` exactly."""
    flags: list[str] = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + f.name.replace("_", "-"))
        else:
            flags += [flag, repr(value) if isinstance(value, float) else str(value)]
    return flags


class ParallelTrainer:
    """Runs ``config`` in ``nproc`` processes through ``denoise-train --nproc``; Trainer's interface."""

    def __init__(
        self,
        config: RunConfig,
        on_event: Callable[[Event], None] | None = None,
        *,
        checkpoint_path: str | Path,
        resume_from: Any = None,
        nproc: int = 2,
    ) -> None:
        if nproc < 2:
            raise ValueError(f"ParallelTrainer needs at least 2 processes, got {nproc} (use Trainer)")
        self.config = config
        self.on_event = on_event
        self.checkpoint_path = Path(checkpoint_path)
        self.resume_from = resume_from
        self.nproc = nproc
        # one folder a run (run-003.processes/): a run folder holds one run, never the files of an earlier one
        stem = self.checkpoint_path.name.removesuffix(".safetensors")
        self.out = self.checkpoint_path.with_name(f"{stem}.{RUN_FOLDER}")
        self._process: subprocess.Popen[str] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    # -- Trainer's thread-safe requests ---------------------------------------------------
    def request_stop(self) -> None:
        """Ask every process to stop after the current step (rank 0 saves)."""
        self._stop.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # the launcher passes it to each process

    def pause(self) -> None:
        raise NotImplementedError("a data-parallel run cannot pause: stop it and resume from its checkpoint")

    def resume(self) -> None:
        return None

    def save_checkpoint(self, path: str | Path) -> Path:
        """Copy the run's latest checkpoint (written by rank 0) to ``path``."""
        from nnkit.denoise.tempfiles import temp_file_beside

        latest = self.out / "checkpoint.safetensors"
        if not latest.is_file():
            raise RuntimeError("no checkpoint yet: rank 0 writes one at the end of each epoch")
        path = Path(path)
        fd, tmp = temp_file_beside(path)
        os.close(fd)
        try:
            shutil.copyfile(latest, tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    # -- the run --------------------------------------------------------------------------
    def command(self) -> list[str]:
        """The command line this run starts."""
        cmd = [sys.executable, "-m", "nnkit.denoise.cli.train_rank", "--nproc", str(self.nproc), "--quiet"]
        cmd += ["--out", str(self.out)]
        resume = getattr(self.resume_from, "path", "") if self.resume_from is not None else ""
        if resume:
            return [*cmd, "--resume", str(resume), "--epochs", str(self.config.epochs), "--lr", repr(self.config.lr)]
        return cmd + config_flags(self.config)

    def run(self) -> Finished:
        """Start the processes, replay rank 0's records as events until they end; the Finished event."""
        if self._stop.is_set():
            return Finished("stopped", "stopped before it started")
        self.out.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._process = process = subprocess.Popen(
                self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        # read the pipes as they fill (a full pipe would block the processes)
        output: list[str] = []
        readers = [threading.Thread(target=_drain, args=(pipe, output), daemon=True) for pipe in _pipes(process)]
        for reader in readers:
            reader.start()
        follower = _MetricsFollower(self.out / "metrics.jsonl", self.config, self.nproc)
        while process.poll() is None:
            self._replay(follower)
            time.sleep(POLL_S)
        for reader in readers:
            reader.join(timeout=5)
        self._replay(follower)
        return self._finished(process.returncode, follower, "".join(output))

    def _replay(self, follower: _MetricsFollower) -> None:
        for event in follower.new_events():
            if self.on_event is not None:
                self.on_event(event)

    def _finished(self, code: int, follower: _MetricsFollower, output: str) -> Finished:
        record = follower.finished
        moved = self._move_checkpoints()
        if record is not None:
            return Finished(
                record.get("reason", "error"),
                str(record.get("message", "")),
                epoch=int(record.get("epoch") or 0),
                step=int(record.get("step") or 0),
                best_psnr=_float(record.get("best_psnr")),
                checkpoint=moved,
            )
        if code == 130 or self._stop.is_set():
            return Finished("stopped", f"stopped ({self.nproc} processes)", checkpoint=moved)
        last = [line for line in output.splitlines() if line.strip()][-3:]
        return Finished("error", f"{self.nproc}-process run failed: " + " | ".join(last), checkpoint=moved)

    def _move_checkpoints(self) -> str | None:
        """The run's checkpoints to the caller's paths; the main one's new path, or None."""
        best_name = self.checkpoint_path.name.removesuffix(".safetensors") + ".best.safetensors"
        best = self.out / "checkpoint.best.safetensors"
        if best.is_file():
            os.replace(best, self.checkpoint_path.with_name(best_name))
        latest = self.out / "checkpoint.safetensors"
        if not latest.is_file():
            return None
        os.replace(latest, self.checkpoint_path)
        return str(self.checkpoint_path)


def _pipes(process: subprocess.Popen[str]) -> list[Any]:
    return [p for p in (process.stdout, process.stderr) if p is not None]


def _drain(pipe: Any, into: list[str]) -> None:
    for line in pipe:
        into.append(line)


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


class _MetricsFollower:
    """Reads the complete new lines of a growing metrics.jsonl and turns them into events."""

    def __init__(self, path: Path, config: RunConfig, nproc: int) -> None:
        self.path = path
        self.config = config
        self.nproc = nproc
        self.offset = 0
        self.finished: dict[str, Any] | None = None

    def new_events(self) -> list[Event]:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next look
        self.offset += end
        events: list[Event] = []
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            event = self._event(record) if isinstance(record, dict) else None
            if event is not None:
                events.append(event)
        return events

    def _event(self, r: dict[str, Any]) -> Event | None:
        kind = r.get("event")
        if kind == "started":
            return Started(
                config=self.config,
                device=f"{r.get('device', '?')} ×{self.nproc} processes",
                num_parameters=int(r.get("num_parameters") or 0),
                steps_per_epoch=int(r.get("steps_per_epoch") or 1),
                train_size=int(r.get("train_size") or 0),
                val_size=int(r.get("val_size") or 0),
                noisy_psnr=_float(r.get("noisy_psnr")),
            )
        if kind == "step":
            return Step(int(r["step"]), int(r["epoch"]), _float(r.get("loss")), _float(r.get("images_per_s")))
        if kind == "epoch":
            return Epoch(
                int(r["epoch"]),
                _float(r.get("train_loss")),
                _float(r.get("val_psnr")),
                _float(r.get("elapsed_s")),
                _float(r.get("eta_s")),
                _float(r.get("val_loss")),
            )
        if kind == "finished":
            self.finished = r
        return None
