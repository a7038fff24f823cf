"""The Denoise view's batch: photos queued, one DenoiseJob at a time on a worker thread, its signals.

A mixin of DenoiseView (view.py): it owns the queue, the running job and the jobs winding down, and
turns the worker's signals into each photo's results and status; the view builds the widgets it uses.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QProgressBar, QWidget

from denoise_gui.denoise.image_compare import ImageCompare
from denoise_gui.denoise.items import DenoiseItem, DenoiseResult, expand_paths
from denoise_gui.denoise.measure_worker import MeasureJob
from denoise_gui.denoise.noise_controls import NoiseControls
from denoise_gui.denoise.worker import DenoiseFn, DenoiseJob, DenoiseWorker, Task
from denoise_gui.widgets.durations import format_duration

PATH_ROLE = Qt.ItemDataRole.UserRole + 1  # a list row's photo path


class BatchMixin:
    """Queue photos, run them through one DenoiseJob at a time, and keep what comes back."""

    denoise_fn: DenoiseFn | None
    read_fn: Callable[[str], np.ndarray] | None
    model_factory: Callable[[], Any] | None
    trained_sigma: str | None
    items: dict[str, DenoiseItem]
    queue: list[Task]
    job: DenoiseJob | None
    job_model: str
    _ending: list[Any]
    measuring: list[MeasureJob]
    list: QListWidget  # (builtins.list below: this name shadows it in the class body)
    hint: QLabel
    progress: QProgressBar
    compare: ImageCompare
    noise: NoiseControls
    rerun_bar: QFrame
    rerun_label: QLabel

    if TYPE_CHECKING:  # provided by DenoiseView and its other parts
        sigBusyChanged: SignalInstance
        sigItemDone: SignalInstance
        sigBatchFinished: SignalInstance

        def show_message(self, text: str, error: bool = False) -> None: ...
        def current_path(self) -> str: ...
        def result_label(self) -> str: ...
        def _show(self, item: DenoiseItem) -> None: ...
        def _refresh_row(self, path: str) -> None: ...
        def _set_status(self, path: str, status: str) -> None: ...
        def _update_buttons(self) -> None: ...
        def _measure(self, item: DenoiseItem, images: dict[Any, np.ndarray], reference: str | None = None) -> None: ...

    # -- offering to denoise again -------------------------------------------------------------
    def _offer_rerun(self, reason: str) -> None:
        todo = self._photos_without_result()
        if reason and todo:
            self.rerun_label.setText(f"{reason} Denoise the {len(todo)} open photo(s) again? "
                                     "Their earlier results are kept.")
            self.rerun_bar.show()
        else:
            self.rerun_bar.hide()

    def _photos_without_result(self) -> builtins.list[str]:
        label = self.result_label()
        return [p for p, i in self.items.items() if i.original is not None and i.result_by(label) is None]

    def redenoise_all(self) -> int:
        """Denoise every open photo again with the current model (keeping earlier results); returns how many."""
        self.rerun_bar.hide()
        todo = self._photos_without_result()
        for path in todo:
            item = self.items[path]
            item.status = "queued"
            self.queue.append((path, item.known_original()))
            self._refresh_row(path)
        self._start_next()
        return len(todo)


    # -- adding and running ------------------------------------------------------------------
    def add_paths(self, paths: Iterable[str | Path]) -> int:
        """Queue files (folders expanded) and start denoising; returns how many were queued."""
        files = expand_paths(paths)
        if not files:
            self.show_message("Nothing to denoise: no image files found there")
            return 0
        if self.model_factory is None:
            self.show_message("No model loaded: load a checkpoint (Ctrl+L) or train a run first", error=True)
            return 0
        for path in files:
            if path not in self.items:
                self.items[path] = DenoiseItem(path)
                widget_item = QListWidgetItem(path)
                widget_item.setData(PATH_ROLE, path)
                widget_item.setToolTip(path)
                self.list.addItem(widget_item)
            item = self.items[path]
            if item.result_by(self.result_label()) is not None or any(t[0] == path for t in self.queue):
                continue  # already done with this model, or waiting
            item.status, item.message = "queued", ""
            self.queue.append((path, item.known_original()))
            self._refresh_row(path)
        self.select_path(files[0])  # the photo just dropped or opened is the one shown
        self.hint.setVisible(False)
        self._start_next()
        return len(files)

    def select_path(self, path: str) -> bool:
        """Select (and show) this photo in the list; False if it is not open."""
        for row in range(self.list.count()):
            if self.list.item(row).data(PATH_ROLE) == path:
                self.list.setCurrentRow(row)
                return True
        return False

    def _start_next(self) -> None:
        if self.job is not None or not self.queue or self.model_factory is None:
            return
        tasks, self.queue = self.queue, []
        # a model of Gaussian noise (the view shows the σ it learned) gets the mean correction, as `denoise` does
        worker = DenoiseWorker(tasks, self.model_factory, denoise=self.denoise_fn, read=self.read_fn,
                               strength=self.noise.strength(), correct_means=self.trained_sigma is not None)
        self.job = job = DenoiseJob(worker, cast(QWidget, self))
        self.job_model = self.result_label()
        job.sigItemStarted.connect(self._on_item_started)
        job.sigLoaded.connect(self._on_loaded)
        job.sigCanvas.connect(self._on_canvas)
        job.sigProgress.connect(self._on_progress)
        job.sigResult.connect(self._on_result)
        job.sigFailed.connect(self._on_failed)
        job.sigSigma.connect(self._on_sigma)
        job.sigFinished.connect(self._on_finished)
        self.job.start()
        self._update_buttons()
        self.sigBusyChanged.emit(True)

    def is_busy(self) -> bool:
        """Whether photos are being denoised."""
        return self.job is not None

    def cancel(self) -> None:
        """Cancel the photo being denoised and those waiting."""
        if self.job is not None:
            self.job.cancel()
        for path, _ in self.queue:
            self._set_status(path, "cancelled")
        self.queue.clear()
        self.show_message("Cancelling…" if self.job is not None else "Nothing to cancel")

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel and wait for the worker threads; True when none is left running."""
        self.queue.clear()
        if self.job is not None:
            self.job.cancel()
        jobs = [*([self.job] if self.job else []), *self._ending, *self.measuring]
        return all(j.wait(timeout_ms) for j in jobs)

    def _prune_ended(self) -> None:
        self._ending = [j for j in self._ending if not j.qthread.isFinished()]
        done = [j for j in self.measuring if j.finished and j.qthread.isFinished()]  # delivered, thread ended
        for job in done:
            job.deleteLater()
        self.measuring = [j for j in self.measuring if j not in done]

    # -- worker signals ----------------------------------------------------------------------
    def _result_in_progress(self, item: DenoiseItem) -> DenoiseResult | None:
        last = item.results[-1] if item.results else None
        return last if last is not None and not last.done and last.model == self.job_model else None

    def _on_item_started(self, path: str) -> None:
        self._set_status(path, "working")
        self.progress.setRange(0, 0)
        self.show_message(f"Denoising {Path(path).name} with {self.job_model}…")

    def _on_loaded(self, path: str, original: np.ndarray, depth: str) -> None:
        item = self.items[path]
        item.original, item.depth = original, depth
        if self.current_path() == path:
            self._show(item)

    def _on_sigma(self, path: str, sigma: float, error: str) -> None:
        item = self.items.get(path)
        if item is None:
            return
        item.sigma = sigma
        if error:
            self.show_message(f"No noise estimate for {item.name}: {error}")
        if self.current_path() == path:
            self.noise.set_sigma(sigma, self.trained_sigma)

    def _on_canvas(self, path: str, canvas: np.ndarray) -> None:
        item = self.items[path]
        item.results.append(DenoiseResult(self.job_model, canvas))
        item.shown = len(item.results) - 1
        if self.current_path() == path:
            self._show(item)

    def _on_progress(self, path: str, done: int, total: int, eta_s: float) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        item = self.items.get(path)
        if item is None:
            return
        item.tiles, item.eta_s = (done, total), eta_s
        if self.current_path() == path:
            self.compare.set_message(self._working_note(item))
            self.compare.refresh_result()

    def _working_note(self, item: DenoiseItem) -> str:
        done, total = item.tiles
        eta = f" · about {format_duration(item.eta_s)} left" if math.isfinite(item.eta_s) else ""
        tiles = f" · tile {done} of {total}" if total > 1 else ""
        return f"Denoising{tiles}{eta}"

    def _on_result(self, path: str, original: np.ndarray, denoised: np.ndarray, difference: Any,
                   full: np.ndarray | None) -> None:
        item = self.items[path]
        item.original = original
        result = self._result_in_progress(item)
        if result is None:
            result = DenoiseResult(self.job_model, denoised)
            item.results.append(result)
        result.image, result.difference, result.full, result.done = denoised, difference, full, True
        item.shown = item.results.index(result)
        self._set_status(path, "done")
        depth = "" if full is None else f", {item.depth}"
        self.show_message(f"{item.name} denoised ({original.shape[1]}×{original.shape[0]}{depth}) with {result.model}")
        if item.reference:
            self._measure(item, {len(item.results) - 1: denoised})
        if self.current_path() == path:
            self._show(item)
        self.sigItemDone.emit(path)

    def _on_failed(self, path: str, message: str) -> None:
        item = self.items[path]
        item.message = message
        unfinished = self._result_in_progress(item)
        if unfinished is not None:
            item.results.remove(unfinished)
            item.shown = len(item.results) - 1
        self._set_status(path, "failed")
        self.show_message(f"Skipped {item.name}: {message}", error=True)
        self.sigItemDone.emit(path)

    def _on_finished(self, cancelled: bool) -> None:
        job = self.job
        if job is not None:
            self._ending.append(job)  # its thread is quitting: never wait for it on the GUI thread
            job.qthread.finished.connect(self._prune_ended)  # queued to the GUI thread
            job.release()
        self.job = None
        waiting = {path for path, _ in self.queue}
        for item in self.items.values():
            if item.status in ("queued", "working") and item.path not in waiting:
                unfinished = self._result_in_progress(item)
                if unfinished is not None:
                    item.results.remove(unfinished)
                    item.shown = len(item.results) - 1
                self._set_status(item.path, "cancelled")
                self.sigItemDone.emit(item.path)
        self.progress.setRange(0, 1)
        self.progress.setValue(0 if cancelled else 1)
        if cancelled:
            self.show_message("Cancelled")
        self._update_buttons()
        if self.queue:
            self._start_next()
        else:
            self.sigBusyChanged.emit(False)
            self.sigBatchFinished.emit()

