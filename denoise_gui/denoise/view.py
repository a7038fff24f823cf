"""DenoiseView: photos dropped or opened, each denoised by the active model and looked at closely.

Every result keeps the model that made it; a photo can hold several (switch with the Result
box), and changing the model offers to denoise the open photos again. The comparison area
(image_compare) shows side by side, split or difference views with zoom; a clean reference
gives PSNR and SSIM (computed by the engine on a worker). Large photos show the original at
once and the result filling in tile by tile, with an ETA. Other views add their own buttons
with ``add_tool`` (e.g. a "Train on these photos" action) and read ``photo_paths()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.denoise.image_compare import ImageCompare
from denoise_gui.denoise.items import (
    DenoiseItem,
    DenoiseResult,
    default_output_path,
    expand_paths,
    image_suffixes,
)
from denoise_gui.denoise.measure_worker import MeasureJob, MeasureWorker
from denoise_gui.denoise.noise_controls import NoiseControls
from denoise_gui.denoise.worker import DenoiseFn, DenoiseJob, DenoiseWorker, Task
from denoise_gui.widgets.durations import format_duration
from nnkit.denoise.photo import read_photo, save_like

__all__ = ["DenoiseView", "default_output_path", "expand_paths"]
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
NOTES = {"queued": "waiting…", "cancelled": "cancelled"}


def describe_quality(quality: Any) -> str:
    """'31.24 dB · SSIM 0.912'."""
    return f"{quality.psnr_db:.2f} dB · SSIM {quality.ssim:.3f}"


class DenoiseView(QWidget):
    """Drop or open photos, compare, save. Emits sigStatus, sigBusyChanged, sigItemDone, sigBatchFinished."""

    sigStatus = Signal(str)
    sigBusyChanged = Signal(bool)
    sigItemDone = Signal(str)  # path (denoised, failed or cancelled)
    sigBatchFinished = Signal()
    sigMeasured = Signal(str)  # path whose PSNR/SSIM against its reference is known

    def __init__(self, *, denoise: DenoiseFn | None = None, read: Callable[[str], np.ndarray] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.denoise_fn = denoise
        self.read_fn = read
        self.model_factory: Callable[[], Any] | None = None
        self.model_name = ""
        self.trained_sigma: str | None = None  # the Gaussian σ (or σ range) the model was trained at, when known
        self.items: dict[str, DenoiseItem] = {}
        self.queue: list[Task] = []
        self.job: DenoiseJob | None = None
        self.job_model = ""
        self._ending: list[Any] = []  # finished jobs whose threads are still winding down
        self.measuring: list[MeasureJob] = []

        self.open_button = QPushButton("Open images…", self)
        self.open_button.setToolTip("Open photos to denoise (Ctrl+O); or drop files or folders anywhere")
        self.save_button = QPushButton("Save result…", self)
        self.save_button.setToolTip("Save the shown result as a new file (Ctrl+S); the original is never touched")
        self.save_all_button = QPushButton("Save all", self)
        self.save_all_button.setToolTip("Save every shown result beside its original as <name>.denoised.png, "
                                        "keeping its bit depth, alpha, colour profile and EXIF")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Cancel the photos still being denoised (Esc)")
        self.model_label = QLabel("Model: none loaded", self)
        self.model_label.setObjectName("denoiseModel")
        self.model_label.setMinimumWidth(60)
        self.model_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.open_button.clicked.connect(self.open_dialog)
        self.save_button.clicked.connect(self.save_dialog)
        self.save_all_button.clicked.connect(self.save_all)
        self.cancel_button.clicked.connect(self.cancel)
        self.tools = QHBoxLayout()
        self.tools.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        for button in (self.open_button, self.save_button, self.save_all_button, self.cancel_button):
            top.addWidget(button)
        top.addLayout(self.tools)
        top.addStretch(1)
        top.addWidget(self.model_label)

        self.rerun_bar = QFrame(self)
        self.rerun_bar.setObjectName("rerunBar")
        self.rerun_bar.setStyleSheet("#rerunBar { background: #fff4ce; border: 1px solid #e0c060; border-radius: 3px; }"
                                     " #rerunBar QLabel { color: #3a3000; }")
        self.rerun_label = QLabel("", self.rerun_bar)
        self.rerun_button = QPushButton("Denoise them again", self.rerun_bar)
        self.rerun_button.setToolTip("Denoise the open photos with the new model; their earlier results are kept")
        self.rerun_dismiss = QPushButton("Not now", self.rerun_bar)
        self.rerun_button.clicked.connect(lambda _checked=False: self.redenoise_all())
        self.rerun_dismiss.clicked.connect(self.rerun_bar.hide)
        rerun = QHBoxLayout(self.rerun_bar)
        rerun.setContentsMargins(8, 2, 8, 2)
        rerun.addWidget(self.rerun_label, 1)
        rerun.addWidget(self.rerun_button)
        rerun.addWidget(self.rerun_dismiss)
        self.rerun_bar.hide()

        self.result_combo = QComboBox(self)
        self.result_combo.setObjectName("resultChoice")
        self.result_combo.setToolTip("Each result of this photo, by the model that made it")
        self.result_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.result_combo.currentIndexChanged.connect(self._result_chosen)
        self.reference_button = QPushButton("Clean reference…", self)
        self.reference_button.setToolTip("Point at a clean version of this photo to measure PSNR and SSIM")
        self.reference_button.clicked.connect(self.reference_dialog)
        self.quality_label = QLabel("", self)
        self.quality_label.setObjectName("denoiseQuality")
        self.quality_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.noise = NoiseControls(self)
        self.noise.sigStrengthChanged.connect(self._strength_changed)
        details = QHBoxLayout()
        details.addWidget(QLabel("Result:", self))
        details.addWidget(self.result_combo)
        details.addWidget(self.reference_button)
        details.addWidget(self.quality_label, 1)
        details.addWidget(self.noise)

        self.list = QListWidget(self)
        self.list.setMinimumWidth(180)
        self.list.currentItemChanged.connect(self._current_changed)
        self.compare = ImageCompare(self)
        self.hint = QLabel("Drop photos or folders anywhere on the window, or press Ctrl+O. "
                           "Then: Split or Difference to look closely, + / − / 0 / 1 to zoom.", self)
        self.hint.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.compare)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 1020])
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message = QLabel("", self)
        self.message.setObjectName("denoiseMessage")
        self.message.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addWidget(self.message, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.rerun_bar)
        layout.addLayout(details)
        layout.addWidget(self.hint)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self._update_buttons()

    # -- extension points --------------------------------------------------------------------
    def add_tool(self, widget: QWidget) -> None:
        """Add a button (or any widget) to the top bar, after Cancel."""
        self.tools.addWidget(widget)

    def photo_paths(self) -> list[str]:
        """The photos open in the view, in list order."""
        return [str(self.list.item(row).data(PATH_ROLE)) for row in range(self.list.count())]

    # -- model -------------------------------------------------------------------------------
    def set_model(self, name: str, factory: Callable[[], Any] | None, trained_sigma: str | None = None) -> None:
        """Use the model ``factory()`` builds (called on the worker thread); offers to redo the open photos."""
        changed = bool(self.model_name) and name != self.model_name
        self.model_factory = factory
        self.model_name = name
        self.trained_sigma = trained_sigma
        self.model_label.setText(f"Model: {name}" if factory is not None else "Model: none loaded")
        self._offer_rerun(f"The model is now {name}." if changed and factory is not None else "")
        item = self.current_item()
        self.noise.set_sigma(item.sigma if item is not None else float("nan"), trained_sigma)

    def result_label(self) -> str:
        """What the next result will be called: the model, and the strength when it is not 100%."""
        percent = round(self.noise.strength() * 100)
        return self.model_name + (f" · strength {percent}%" if percent < 100 else "")

    def _strength_changed(self, _strength: float) -> None:
        percent = round(self.noise.strength() * 100)
        self._offer_rerun(f"The strength is now {percent}%." if self.model_factory is not None else "")

    def _offer_rerun(self, reason: str) -> None:
        todo = self._photos_without_result()
        if reason and todo:
            self.rerun_label.setText(f"{reason} Denoise the {len(todo)} open photo(s) again? "
                                     "Their earlier results are kept.")
            self.rerun_bar.show()
        else:
            self.rerun_bar.hide()

    def _photos_without_result(self) -> list[str]:
        label = self.result_label()
        return [p for p, i in self.items.items() if i.original is not None and i.result_by(label) is None]

    def redenoise_all(self) -> int:
        """Denoise every open photo again with the current model (keeping earlier results); returns how many."""
        self.rerun_bar.hide()
        todo = self._photos_without_result()
        for path in todo:
            item = self.items[path]
            item.status = "queued"
            self.queue.append((path, item.original))
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
            self.queue.append((path, item.original))
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
        self.job = job = DenoiseJob(worker, self)
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a worker thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)

    # -- worker signals ----------------------------------------------------------------------
    def _result_in_progress(self, item: DenoiseItem) -> DenoiseResult | None:
        last = item.results[-1] if item.results else None
        return last if last is not None and not last.done and last.model == self.job_model else None

    def _on_item_started(self, path: str) -> None:
        self._set_status(path, "working")
        self.progress.setRange(0, 0)
        self.show_message(f"Denoising {Path(path).name} with {self.job_model}…")

    def _on_loaded(self, path: str, original: np.ndarray) -> None:
        item = self.items[path]
        item.original = original
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

    def _on_result(self, path: str, original: np.ndarray, denoised: np.ndarray, difference: Any) -> None:
        item = self.items[path]
        item.original = original
        result = self._result_in_progress(item)
        if result is None:
            result = DenoiseResult(self.job_model, denoised)
            item.results.append(result)
        result.image, result.difference, result.done = denoised, difference, True
        item.shown = item.results.index(result)
        self._set_status(path, "done")
        self.show_message(f"{item.name} denoised ({original.shape[1]}×{original.shape[0]}) with {result.model}")
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

    # -- the clean reference -------------------------------------------------------------------
    def reference_dialog(self) -> None:
        """Choose a clean reference for the selected photo."""
        item = self.items.get(self.current_path())
        if item is None:
            self.show_message("Open a photo first, then point at its clean reference")
            return
        patterns = " ".join(f"*{s}" for s in image_suffixes())
        path, _ = QFileDialog.getOpenFileName(self, f"Clean reference for {item.name}", str(Path(item.path).parent),
                                              f"Images ({patterns});;All files (*)")
        if path:
            self.set_reference(item.path, path)

    def set_reference(self, path: str, reference: str) -> bool:
        """Measure the photo and each of its results against ``reference`` (a clean image of the same size)."""
        item = self.items.get(path)
        if item is None or item.original is None:
            self.show_message("That photo is not loaded yet", error=True)
            return False
        item.reference = reference
        images: dict[Any, np.ndarray] = {"original": item.original}
        images.update({i: r.image for i, r in enumerate(item.results) if r.done})
        self._measure(item, images, reference)
        self.quality_label.setText(f"Measuring against {Path(reference).name}…")
        return True

    def _measure(self, item: DenoiseItem, images: dict[Any, np.ndarray], reference: str | None = None) -> None:
        job = MeasureJob(MeasureWorker(item.path, reference or item.reference, images, read=self.read_fn), self)
        job.sigMeasured.connect(self._on_measured)
        job.sigFailed.connect(self._on_measure_failed)
        job.qthread.finished.connect(self._prune_ended)
        self.measuring.append(job)
        job.start()

    def _on_measured(self, path: str, _reference: np.ndarray, scores: dict[Any, Any]) -> None:
        item = self.items.get(path)
        if item is None:
            return
        for key, quality in scores.items():
            if key == "original":
                item.original_quality = quality
            elif isinstance(key, int) and key < len(item.results):
                item.results[key].quality = quality
        if self.current_path() == path:
            self._show_quality(item)
        self._prune_ended()
        self.sigMeasured.emit(path)

    def _on_measure_failed(self, path: str, message: str) -> None:
        item = self.items.get(path)
        if item is not None:
            item.reference = ""
        self.quality_label.setText("")
        self._prune_ended()
        self.show_message(f"Could not measure against the reference: {message}", error=True)

    def _show_quality(self, item: DenoiseItem) -> None:
        if not item.reference or item.original_quality is None:
            self.quality_label.setText("")
            return
        result = item.shown_result()
        parts = [f"vs {Path(item.reference).name}:"]
        if result is not None and result.quality is not None:
            parts.append(f"result {describe_quality(result.quality)}")
        parts.append(f"original {describe_quality(item.original_quality)}")
        self.quality_label.setText("  ".join(parts))

    # -- showing -----------------------------------------------------------------------------
    def current_path(self) -> str:
        """Path of the photo selected in the list ('' if none)."""
        item = self.list.currentItem()
        return str(item.data(PATH_ROLE)) if item is not None else ""

    def current_item(self) -> DenoiseItem | None:
        """The photo selected in the list."""
        return self.items.get(self.current_path())

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self._show(self.items[str(current.data(PATH_ROLE))])
        self._update_buttons()

    def show_result(self, index: int) -> None:
        """Show another result of the selected photo."""
        item = self.current_item()
        if item is not None and 0 <= index < len(item.results):
            item.shown = index
            self._show(item)

    def _result_chosen(self, index: int) -> None:
        item = self.current_item()
        if item is not None and index >= 0 and index != item.shown:
            self.show_result(index)

    def _show(self, item: DenoiseItem) -> None:
        result = item.shown_result()
        self.result_combo.blockSignals(True)
        self.result_combo.clear()
        for number, r in enumerate(item.results, start=1):
            self.result_combo.addItem(f"{number}. {r.model}" + ("" if r.done else " (working…)"))
        self.result_combo.setCurrentIndex(item.shown)
        self.result_combo.setEnabled(len(item.results) > 1)
        self.result_combo.blockSignals(False)
        if item.status == "failed":
            message = f"Could not denoise {item.name}:\n{item.message}"
        elif item.status == "working":
            message = self._working_note(item) if result is not None and not result.done else "Reading…"
        else:
            message = NOTES.get(item.status, "")
        caption = f"denoised: {result.model.split(' (')[0]}" if result is not None else "denoised"
        self.compare.set_images(item.original, result.image if result is not None else None,
                                result.difference if result is not None else None, caption=caption, message=message)
        self._show_quality(item)
        self.noise.set_sigma(item.sigma, self.trained_sigma)
        self._update_buttons()

    def _refresh_row(self, path: str) -> None:
        item = self.items.get(path)
        if item is None:
            return
        done = sum(r.done for r in item.results)
        results = f", {done} results" if done > 1 else ""
        for row in range(self.list.count()):
            widget_item = self.list.item(row)
            if widget_item.data(PATH_ROLE) == path:
                widget_item.setText(f"{item.name} — {item.status}{results}")
                widget_item.setToolTip(f"{path}\n{item.message}" if item.message else path)

    def _set_status(self, path: str, status: str) -> None:
        item = self.items.get(path)
        if item is None:
            return
        item.status = status
        self._refresh_row(path)
        if self.current_path() == path:
            self._show(item)

    def show_message(self, text: str, error: bool = False) -> None:
        """Show a message under the images and in the status bar."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728;" if error else "")
        self.sigStatus.emit(text)

    def _update_buttons(self) -> None:
        item = self.current_item()
        self.save_button.setEnabled(item is not None and item.denoised is not None)
        self.save_all_button.setEnabled(any(i.denoised is not None for i in self.items.values()))
        self.cancel_button.setEnabled(self.job is not None)
        self.reference_button.setEnabled(item is not None and item.original is not None)

    # -- opening and saving ------------------------------------------------------------------
    def open_dialog(self) -> None:
        """Choose photos with a file dialog."""
        patterns = " ".join(f"*{s}" for s in image_suffixes())
        filters = f"Images ({patterns});;All files (*)"
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos to denoise", "", filters)
        if files:
            self.add_paths(files)

    def save_dialog(self) -> None:
        """Choose where to save the shown result (default '<name>.denoised.png', TIFF for a TIFF)."""
        path = self.current_path()
        item = self.items.get(path)
        if item is None or item.denoised is None:
            self.show_message("Nothing to save yet: the selected photo has no denoised result")
            return
        target, _ = QFileDialog.getSaveFileName(self, "Save denoised photo", str(default_output_path(path)),
                                                "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;WebP (*.webp)")
        if target:
            self.save_current(target)

    def save_current(self, target: str | Path | None = None) -> Path | None:
        """Save the selected photo's shown result to ``target`` (default beside it); never over the original."""
        return self.save_item(self.current_path(), target)

    def save_item(self, path: str, target: str | Path | None = None) -> Path | None:
        """Save one photo's shown result; returns where, or None with a message saying why not."""
        item = self.items.get(path)
        result = item.shown_result() if item is not None else None
        if item is None or result is None or not result.done:
            self.show_message("Nothing to save yet: that photo has no denoised result")
            return None
        out = Path(target) if target is not None else default_output_path(path)
        if out.resolve() == Path(path).resolve():
            self.show_message(f"Refusing to overwrite the original {out}; choose another name", error=True)
            return None
        try:
            # The original is read again for what must come back out: its bit depth, grey, alpha,
            # colour profile and EXIF (the shown result is its 8-bit RGB, already upright).
            written, notes = save_like(read_photo(path), result.image.astype(np.float32) / 255, out,
                                       overwrite=target is not None)  # a chosen target was confirmed in the dialog
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not save {out}: {exc}", error=True)
            return None
        result.saved_to = str(written)
        self.show_message(f"Saved {written} ({result.model})" + "".join(f"; {n}" for n in notes))
        return written

    def save_all(self) -> list[Path]:
        """Save every shown result not saved yet beside its original."""
        pending = [i.path for i in self.items.values() if i.denoised is not None and not i.saved_to]
        saved = [p for p in (self.save_item(path) for path in pending) if p is not None]
        self.show_message(f"Saved {len(saved)} photo(s)")
        return saved
