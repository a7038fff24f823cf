"""DenoiseView: photos dropped or opened, each denoised by the active model and looked at closely.

Every result keeps the model that made it; a photo can hold several (switch with the Result
box), and changing the model offers to denoise the open photos again. The comparison area
(image_compare) shows side by side, split or difference views with zoom; a clean reference
gives PSNR and SSIM (computed by the engine on a worker). Large photos show the original at
once and the result filling in tile by tile, with an ETA. Other views add their own buttons
with ``add_tool`` (e.g. a "Train on these photos" action) and read ``photo_paths()``.

This file builds the widgets and shows the selected photo; its parts live beside it: the queue and
the worker's signals (batch.py), the clean reference (reference.py), saving (saving.py).
"""

from __future__ import annotations

from collections.abc import Callable
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

from denoise_gui.denoise.batch import PATH_ROLE, BatchMixin
from denoise_gui.denoise.image_compare import ImageCompare
from denoise_gui.denoise.items import DenoiseItem, default_output_path, expand_paths, image_suffixes
from denoise_gui.denoise.measure_worker import MeasureJob
from denoise_gui.denoise.noise_controls import NoiseControls
from denoise_gui.denoise.reference import ReferenceMixin
from denoise_gui.denoise.saving import SavingMixin
from denoise_gui.denoise.worker import DenoiseFn, DenoiseJob, Task

__all__ = ["DenoiseView", "default_output_path", "expand_paths"]
NOTES = {"queued": "waiting…", "cancelled": "cancelled"}


class DenoiseView(BatchMixin, ReferenceMixin, SavingMixin, QWidget):
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a worker thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)

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

    # -- opening (saving: saving.py) ----------------------------------------------------------
    def open_dialog(self) -> None:
        """Choose photos with a file dialog."""
        patterns = " ".join(f"*{s}" for s in image_suffixes())
        filters = f"Images ({patterns});;All files (*)"
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos to denoise", "", filters)
        if files:
            self.add_paths(files)
