"""RunLibrary: every training run kept on disk, one folder each, so the run table survives restarts.

A library is a folder (``<AppData>/runs`` by default) of run folders named ``run-0001``,
``run-0002``…: the number is unique across launches (a folder is reserved with an exclusive
``mkdir`` before the run starts, so two windows never share one). Each run folder holds

* ``run.json``: name, when it started, the RunConfig, status, best PSNR, timings, whether it
  is hidden; rewritten atomically (temporary file, fsync, rename) at each change;
* ``metrics.jsonl``: one JSON object per step or epoch, and the ``layers`` and ``lockstep`` records of
  the Inspect view, appended as the run goes (the format of ``denoise-train``'s file; a torn last
  line after a crash is skipped on reading);
* ``checkpoint.safetensors`` and ``checkpoint.best.safetensors``, written by the trainer.

Plain Python: no Qt here. run.json rewrites can go to a writer thread (``save_soon``), so that an fsync
on a busy disk never holds up the GUI thread; ``flush`` waits for them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from denoise_gui.train.runs import RunRecord
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.events import Lockstep
from nnkit.denoise.tempfiles import write_bytes_atomically

RUN_FILE = "run.json"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "checkpoint.safetensors"
FOLDER_RE = re.compile(r"^run-(\d{4,})$")
FORMAT_VERSION = 1


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float, however deeply nested, as None (JSON has no NaN)."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _float(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else math.nan


def metrics_records(path: Path, only: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """The records of a metrics.jsonl, skipping lines that are not a JSON object (a run cut mid-write);
    with ``only``, just the lines holding one of those strings are parsed."""
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if only and not any(s in line for s in only):
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict):
                yield record


class RunLibrary:
    """The runs folder: create, list, load, update, delete and export runs."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.problems: list[str] = []  # run folders that could not be read, in words
        self._writer: ThreadPoolExecutor | None = None  # one thread: run.json writes stay in order
        self._pending: list[Future[Path]] = []
        self._lock = threading.Lock()

    # -- creating and saving -------------------------------------------------------------------
    def next_number(self) -> int:
        """One more than the highest run number in the library."""
        numbers = [int(m.group(1)) for p in self._folders() if (m := FOLDER_RE.match(p.name))]
        return max(numbers, default=0) + 1

    def create(self, run: RunRecord) -> RunRecord:
        """Reserve a new folder for ``run`` (sets its number, name and folder) and write its run.json."""
        self.root.mkdir(parents=True, exist_ok=True)
        number = self.next_number()
        while True:
            folder = self.root / f"run-{number:04d}"
            try:
                folder.mkdir()
                break
            except FileExistsError:  # another window took it meanwhile
                number += 1
        run.number, run.folder = number, str(folder)
        self.save_soon(run)
        return run

    def checkpoint_path(self, run: RunRecord) -> Path:
        """Where the trainer writes the run's checkpoint."""
        return Path(run.folder) / CHECKPOINT_FILE

    def save(self, run: RunRecord) -> None:
        """Rewrite the run's run.json atomically."""
        write_bytes_atomically(Path(run.folder) / RUN_FILE, self._record(run))

    def save_soon(self, run: RunRecord) -> None:
        """Rewrite run.json atomically on a writer thread (the fsync can take a busy disk tens of ms)."""
        data = self._record(run)  # the snapshot is taken now, on the caller's thread
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-library")
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._writer.submit(write_bytes_atomically, Path(run.folder) / RUN_FILE, data))

    def flush(self) -> list[str]:
        """Wait for the writes queued by ``save_soon``; returns the errors, in words."""
        with self._lock:
            pending, self._pending = self._pending, []
        errors = []
        for future in pending:
            try:
                future.result()
            except OSError as exc:
                errors.append(str(exc))
        return errors

    def _record(self, run: RunRecord) -> bytes:
        record = {
            "format_version": FORMAT_VERSION,
            "name": run.label,
            "number": run.number,
            "started": run.started_wall,
            "config": run.config.to_dict(),
            "status": run.status,
            "message": run.message,
            "best_psnr": _number(run.best_psnr),
            "noisy_psnr": _number(run.noisy_psnr),
            "elapsed_s": run.elapsed_s,
            "steps_per_epoch": run.steps_per_epoch,
            "checkpoint": Path(run.checkpoint).name if run.checkpoint else None,
            "hidden": not run.visible,
        }
        return json.dumps(record, indent=1).encode()

    def append_metrics(self, run: RunRecord, records: Iterable[dict[str, Any]]) -> None:
        """Append records (non-finite numbers as null, nested ones too) to the run's metrics.jsonl."""
        lines = [json.dumps(_finite(r)) for r in records]
        if lines:
            with open(Path(run.folder) / METRICS_FILE, "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")

    # -- reading -------------------------------------------------------------------------------
    def _folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and FOLDER_RE.match(p.name))

    def list_runs(self) -> list[RunRecord]:
        """Every readable run, oldest first, without its metrics (``load_metrics`` reads them)."""
        self.problems = []
        runs = []
        for folder in self._folders():
            try:
                runs.append(self._read_run(folder))
            except (OSError, ValueError, TypeError, KeyError, ConfigError) as exc:
                self.problems.append(f"{folder.name}: {exc}")
        return runs

    def _read_run(self, folder: Path) -> RunRecord:
        path = folder / RUN_FILE
        if not path.is_file():
            raise ValueError(f"no {RUN_FILE}")
        data = json.loads(path.read_text(encoding="utf-8"))
        config_data = {k: v for k, v in data["config"].items()}
        known = set(RunConfig().to_dict())
        config = RunConfig.from_dict({k: v for k, v in config_data.items() if k in known})
        run = RunRecord(0, config)
        run.number = int(data.get("number") or FOLDER_RE.match(folder.name).group(1))  # type: ignore[union-attr]
        run.folder = str(folder)
        run.started_wall = float(data.get("started") or 0.0)
        run.status = str(data.get("status", "unknown"))
        if run.status in ("starting", "running", "paused", "stopping"):
            run.status = "interrupted"  # the app closed or crashed under it
        run.message = str(data.get("message", ""))
        run.best_psnr = _float(data.get("best_psnr"))
        run.noisy_psnr = _float(data.get("noisy_psnr"))
        run.elapsed_s = float(data.get("elapsed_s") or 0.0)
        run.steps_per_epoch = int(data.get("steps_per_epoch") or 0)
        checkpoint = data.get("checkpoint")
        if checkpoint and (folder / checkpoint).is_file():
            run.checkpoint = str(folder / checkpoint)
        run.visible = not bool(data.get("hidden", False))
        run.stored = True
        run.metrics_loaded = False
        return run

    def load_metrics(self, run: RunRecord) -> None:
        """Fill the run's curves from its metrics.jsonl (a torn or foreign line is skipped)."""
        path = Path(run.folder) / METRICS_FILE
        if not path.is_file() or run.metrics_loaded:
            run.metrics_loaded = True
            return
        steps: list[Any] = []
        for record in metrics_records(path):
            event = record.get("event")
            if event == "step":
                steps.append(record)
            elif event == "epoch":
                run.add_stored_steps(steps)
                steps = []
                run.add_stored_epoch(record)
        run.add_stored_steps(steps)
        run.metrics_loaded = True

    def load_inspection(self, run: RunRecord) -> tuple[list[dict[str, Any]], list[Lockstep]]:
        """The run's ``layers`` records and lockstep drift from its metrics.jsonl (what the Inspect view shows)."""
        layers: list[dict[str, Any]] = []
        drift: list[Lockstep] = []
        path = Path(run.folder) / METRICS_FILE
        if not path.is_file():
            return layers, drift
        for record in metrics_records(path, only=('"layers"', '"lockstep"')):  # most lines are steps: not parsed
            if record.get("event") == "layers" and isinstance(record.get("layers"), dict):
                layers.append(record)
            elif record.get("event") == "lockstep":
                drift.append(Lockstep(int(record.get("step") or 0), _float(record.get("loss_nnkit")),
                                      _float(record.get("loss_torch")), _float(record.get("loss_rel_diff")),
                                      _float(record.get("weight_rel_diff"))))
        return layers, drift

    def run_number_of(self, checkpoint: Path) -> int | None:
        """The number of the library's run that holds this checkpoint file, or None (a file from elsewhere)."""
        folder = Path(checkpoint).parent
        match = FOLDER_RE.match(folder.name)
        if match is None or folder.parent.resolve() != self.root.resolve():
            return None
        return int(match.group(1))

    # -- removing and exporting --------------------------------------------------------------
    def delete(self, run: RunRecord) -> None:
        """Remove the run's folder (first renamed aside, so a half-deleted run never lists)."""
        folder = Path(run.folder)
        if folder.parent.resolve() != self.root.resolve() or not FOLDER_RE.match(folder.name):
            raise ValueError(f"{folder} is not a run folder of {self.root}")
        aside = folder.with_name(f".deleted-{folder.name}-{int(time.time())}")
        os.replace(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)

    def export_csv(self, run: RunRecord, path: Path) -> Path:
        """Write the run's metrics as CSV (one row per step, epoch rows with the validation PSNR)."""
        self.load_metrics(run)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["run", "kind", "epoch", "step", "images_seen", "wall_s", "loss", "val_psnr_db"])
        for index, step in enumerate(run.steps):
            writer.writerow([run.label, "step", run.step_epochs[index] if index < len(run.step_epochs) else "",
                             step, step * run.config.batch_size, _csv(run.wall_s[index]), _csv(run.losses[index]),
                             ""])
        for index, epoch in enumerate(run.epochs):
            step = run.epoch_steps[index] if index < len(run.epoch_steps) else 0
            writer.writerow([run.label, "epoch", epoch, step, step * run.config.batch_size,
                             _csv(run.epoch_wall[index]) if index < len(run.epoch_wall) else "", "",
                             _csv(run.psnrs[index])])
        return write_bytes_atomically(Path(path), buffer.getvalue().encode())


def _csv(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else ""
