"""The Train view's running runs: its own run's signals turned into the run's record, metrics.jsonl
(steps, epochs, layer statistics, lockstep drifts), the curves, table and progress; and runs another
view starts (the Denoise view's "Train on these photos"), followed the same way.

A mixin of TrainView (view.py).
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import SignalInstance

from denoise_gui.threads.train_worker import TrainJob
from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.preview_grid import PreviewGrid
from denoise_gui.train.progress_panel import ProgressPanel
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.run_table import RunTable
from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets.durations import format_duration
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, LayerStats, Lockstep, Preview, Started, Step
from nnkit.layer_stats import as_record

TABLE_REFRESH_S = 1.0  # the running run's Time cell is refreshed this often during an epoch


class RunEventsMixin:
    """Record what a running trainer reports, for our run and for runs followed from elsewhere."""

    library: RunLibrary
    runs: dict[int, RunRecord]
    _next_id: int
    _table_refreshed: float
    job: TrainJob | None
    _ending: list[TrainJob]
    current: RunRecord | None
    curves: CurvesPanel
    table: RunTable
    grid: PreviewGrid
    progress: ProgressPanel

    if TYPE_CHECKING:  # provided by TrainView and its other parts
        sigDevice: SignalInstance
        sigRunningChanged: SignalInstance
        sigRunFinished: SignalInstance

        def show_message(self, text: str, kind: str = "info") -> None: ...
        def _update_buttons(self) -> None: ...
        def _store(self, run: RunRecord) -> None: ...
        def _append_metrics(self, run: RunRecord, records: list[dict[str, Any]]) -> None: ...
        def _prune_ended(self) -> None: ...

    # -- runs started elsewhere (the Denoise view's "Train on these photos"), kept like ours ----------
    def reserve_run_folder(self, config: RunConfig) -> Path:
        """A new run of the library for a run another view starts; its folder (raises OSError if unwritable)."""
        run = RunRecord(self._next_id, config)
        self.library.create(run)
        self._next_id += 1
        self.runs[run.run_id] = run
        self.table.update_run(run)
        return Path(run.folder)

    def follow_job(self, job: TrainJob, folder: str, config: RunConfig) -> bool:
        """Record that job's run (reserved by reserve_run_folder) in the table, the curves and the library."""
        run = next((r for r in self.runs.values() if r.folder and Path(r.folder) == Path(folder)), None)
        if run is None:
            return False
        run.config = config
        self._store(run)

        def shown(records: list[dict[str, Any]] | None = None, store: bool = True) -> None:
            if records:
                self._append_metrics(run, records)
            if store:
                self._store(run)
            self.curves.update_run(run)
            self.table.update_run(run)

        def started(event: Started) -> None:
            run.on_started(event)
            shown()

        def finished(event: Finished) -> None:
            run.on_finished(event)
            shown()

        job.sigStarted.connect(started)
        job.sigStep.connect(lambda events: shown(run.on_steps(events), store=False))
        job.sigEpoch.connect(lambda event: shown([run.on_epoch(event)]))
        job.sigFinished.connect(finished)
        return True

    # -- worker signals (GUI thread) ------------------------------------------------------------
    def _connect_job(self, job: TrainJob) -> None:
        """Our own run's signals to their handlers below (queued to the GUI thread)."""
        job.sigStarted.connect(self._on_started)
        job.sigStep.connect(self._on_steps)
        job.sigEpoch.connect(self._on_epoch)
        job.sigPreview.connect(self._on_preview)
        job.sigLayerStats.connect(self._on_layer_stats)
        job.sigLockstep.connect(self._on_lockstep)
        job.sigSaved.connect(self._on_saved)
        job.sigFinished.connect(self._on_finished)

    def _on_started(self, event: Started) -> None:
        if self.current is None:
            return
        self.current.on_started(event)
        self._store(self.current)
        self.progress.on_started(event)
        self.grid.set_noisy_psnr(event.noisy_psnr)
        self.sigDevice.emit(event.device)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)
        self.show_message(
            f"{self.current.label} on {event.device}: {event.num_parameters:,} parameters, "
            f"{event.train_size} training crops, {event.val_size} validation images, "
            f"noisy input {event.noisy_psnr:.2f} dB"
        )

    def _on_steps(self, events: tuple[Step, ...]) -> None:
        if self.current is None:
            return
        self._append_metrics(self.current, self.current.on_steps(events))
        self.progress.on_steps(events)
        self.curves.update_run(self.current)
        now = time.monotonic()
        if now - self._table_refreshed >= TABLE_REFRESH_S:  # the Time column moves during an epoch
            self._table_refreshed = now
            self.table.update_run(self.current)

    def _on_epoch(self, event: Epoch) -> None:
        if self.current is None:
            return
        self._append_metrics(self.current, [self.current.on_epoch(event)])
        self._store(self.current)
        self.progress.on_epoch(event)
        self.curves.update_run(self.current)
        self.table.update_run(self.current)

    def _on_layer_stats(self, event: LayerStats) -> None:
        """Into metrics.jsonl as denoise-train writes it, so the Inspect view can show it after a restart."""
        if self.current is not None:
            self._append_metrics(self.current, [as_record(event.report, event.step)])

    def _on_lockstep(self, drifts: tuple[Lockstep, ...]) -> None:
        if self.current is not None:
            self._append_metrics(self.current, [{"event": "lockstep", **dataclasses.asdict(d)} for d in drifts])

    def _on_preview(self, event: Preview) -> None:
        self.grid.show_preview(event)

    def _on_saved(self, path: str, error: str) -> None:
        if error:
            self.show_message(f"Could not save {path}: {error}", "error")
        else:
            self.show_message(f"Checkpoint saved to {path}", "ok")

    def _on_finished(self, event: Finished) -> None:
        run, job = self.current, self.job
        if job is not None:
            self._ending.append(job)  # its thread is quitting: never wait for it on the GUI thread
            job.qthread.finished.connect(self._prune_ended)  # queued to the GUI thread
            job.release()
        self.job = None
        if run is None:
            return
        run.on_finished(event)
        self._store(run)
        self.curves.update_run(run)
        self.table.update_run(run)
        best = f"best {run.best_psnr:.2f} dB" if math.isfinite(run.best_psnr) else "no validation yet"
        saved = f"; checkpoint {event.checkpoint}" if event.checkpoint else ""
        took = format_duration(run.elapsed_s)
        if event.reason == "done":
            self.show_message(f"{run.label} finished in {took}: {best}{saved}", "ok")
        elif event.reason == "stopped":
            self.show_message(f"{run.label} stopped after {took}: {best}{saved}")
        elif event.reason == "diverged":
            self.show_message(f"{run.label} diverged: {event.message}{saved}", "error")
        else:
            self.show_message(f"{run.label} failed: {event.message}", "error")
        self.progress.finish(f"{run.label}: {event.reason} after {took}, {best}")
        self._update_buttons()
        self.sigRunningChanged.emit(False)
        self.sigRunFinished.emit(run)
