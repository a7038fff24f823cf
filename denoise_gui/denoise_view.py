"""DenoiseView: a list of dropped/opened photos, each shown original | denoised; save, cancel, progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QFileDialog,
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

from denoise_gui.denoise_worker import DenoiseFn, DenoiseJob, DenoiseWorker
from denoise_gui.image_compare import ImageCompare

DEFAULT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def image_suffixes() -> tuple[str, ...]:
    """Suffixes taken from a dropped folder (nnkit.denoise.imageio.IMAGE_SUFFIXES when present)."""
    try:
        from nnkit.denoise.imageio import IMAGE_SUFFIXES

        return tuple(s.lower() for s in IMAGE_SUFFIXES)
    except ImportError:
        return DEFAULT_SUFFIXES


def expand_paths(paths: Iterable[str | Path]) -> list[str]:
    """Files as given; folders replaced by the image files inside them (sorted, recursive)."""
    suffixes = image_suffixes()
    out: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                str(p) for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in suffixes and not p.stem.endswith("_denoised")
            )
        else:
            out.append(str(path))
    return out


def default_output_path(original: str | Path) -> Path:
    """'<stem>_denoised.png' beside the original, never the original, never an existing file."""
    source = Path(original)
    candidate = source.with_name(f"{source.stem}_denoised.png")
    counter = 2
    while candidate.exists() or candidate.resolve() == source.resolve():
        candidate = source.with_name(f"{source.stem}_denoised-{counter}.png")
        counter += 1
    return candidate


@dataclass
class DenoiseItem:
    """One file of the batch and what became of it."""

    path: str
    status: str = "queued"  # queued | working | done | failed | cancelled
    original: np.ndarray | None = None
    denoised: np.ndarray | None = None
    message: str = ""
    saved_to: str = ""


class DenoiseView(QWidget):
    """Drop or open photos, see them denoised, save. Emits sigStatus(text) and sigBusyChanged(bool)."""

    sigStatus = Signal(str)
    sigBusyChanged = Signal(bool)
    sigItemDone = Signal(str)  # path (denoised, failed or cancelled)
    sigBatchFinished = Signal()

    def __init__(self, *, denoise: DenoiseFn | None = None, read: Callable[[str], np.ndarray] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.denoise_fn = denoise
        self.read_fn = read
        self.model_factory: Callable[[], Any] | None = None
        self.model_name = ""
        self.items: dict[str, DenoiseItem] = {}
        self.queue: list[str] = []
        self.job: DenoiseJob | None = None
        self._ending: list[DenoiseJob] = []  # finished jobs whose threads are still winding down

        self.open_button = QPushButton("Open images…", self)
        self.open_button.setToolTip("Open photos to denoise (Ctrl+O); or drop files or folders anywhere")
        self.save_button = QPushButton("Save result…", self)
        self.save_button.setToolTip("Save the denoised photo as a new file (Ctrl+S)")
        self.save_all_button = QPushButton("Save all", self)
        self.save_all_button.setToolTip("Save every denoised photo beside its original as <name>_denoised.png")
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
        top = QHBoxLayout()
        for button in (self.open_button, self.save_button, self.save_all_button, self.cancel_button):
            top.addWidget(button)
        top.addStretch(1)
        top.addWidget(self.model_label)

        self.list = QListWidget(self)
        self.list.setMinimumWidth(200)
        self.list.currentItemChanged.connect(self._current_changed)
        self.compare = ImageCompare(self)
        self.hint = QLabel("Drop photos or folders anywhere on the window, or press Ctrl+O.", self)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.list)
        split.addWidget(self.compare)
        split.setStretchFactor(1, 1)
        split.setSizes([240, 1000])
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
        layout.addWidget(self.hint)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)
        self._update_buttons()

    # -- model -------------------------------------------------------------------------------
    def set_model(self, name: str, factory: Callable[[], Any] | None) -> None:
        """Use the model ``factory()`` builds (called on the worker thread); ``name`` is shown."""
        self.model_factory = factory
        self.model_name = name
        self.model_label.setText(f"Model: {name}" if factory is not None else "Model: none loaded")

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
            item = DenoiseItem(path)
            self.items[path] = item
            self.queue.append(path)
            widget_item = QListWidgetItem(self._item_text(item))
            widget_item.setData(PATH_ROLE, path)
            widget_item.setToolTip(path)
            self.list.addItem(widget_item)
            if self.list.currentItem() is None:
                self.list.setCurrentItem(widget_item)
        self.hint.setVisible(False)
        self._start_next()
        return len(files)

    def _start_next(self) -> None:
        if self.job is not None or not self.queue or self.model_factory is None:
            return
        paths, self.queue = self.queue, []
        worker = DenoiseWorker(paths, self.model_factory, denoise=self.denoise_fn, read=self.read_fn)
        self.job = job = DenoiseJob(worker, self)
        job.sigItemStarted.connect(self._on_item_started)
        job.sigProgress.connect(self._on_progress)
        job.sigResult.connect(self._on_result)
        job.sigFailed.connect(self._on_failed)
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
        for path in self.queue:
            self._set_status(path, "cancelled")
        self.queue.clear()
        self.show_message("Cancelling…" if self.job is not None else "Nothing to cancel")

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Cancel and wait for the worker thread; True when none is left running."""
        self.queue.clear()
        if self.job is not None:
            self.job.cancel()
        return all(j.wait(timeout_ms) for j in [*([self.job] if self.job else []), *self._ending])

    def _prune_ended(self) -> None:
        self._ending = [j for j in self._ending if not j.qthread.isFinished()]

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed on its own (tests, embedding): never leave a denoising thread behind."""
        self.shutdown(5000)
        super().closeEvent(event)

    # -- worker signals ----------------------------------------------------------------------
    def _on_item_started(self, path: str) -> None:
        self._set_status(path, "working")
        self.progress.setRange(0, 0)
        self.show_message(f"Denoising {Path(path).name}…")

    def _on_progress(self, path: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_result(self, path: str, original: np.ndarray, denoised: np.ndarray) -> None:
        item = self.items[path]
        item.original, item.denoised = original, denoised
        self._set_status(path, "done")
        self.show_message(f"{Path(path).name} denoised ({original.shape[1]}×{original.shape[0]})")
        if self.current_path() == path:
            self._show(item)
        self.sigItemDone.emit(path)

    def _on_failed(self, path: str, message: str) -> None:
        item = self.items[path]
        item.message = message
        self._set_status(path, "failed")
        self.show_message(f"Skipped {Path(path).name}: {message}", error=True)
        if self.current_path() == path:
            self._show(item)
        self.sigItemDone.emit(path)

    def _on_finished(self, cancelled: bool) -> None:
        job = self.job
        if job is not None:
            self._ending.append(job)  # its thread is quitting: never wait for it on the GUI thread
            job.qthread.finished.connect(self._prune_ended)  # queued to the GUI thread
            job.release()
        self.job = None
        for item in self.items.values():
            if item.status in ("queued", "working") and item.path not in self.queue:
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

    # -- showing -----------------------------------------------------------------------------
    def current_path(self) -> str:
        """Path of the photo selected in the list ('' if none)."""
        item = self.list.currentItem()
        return str(item.data(PATH_ROLE)) if item is not None else ""

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self._show(self.items[str(current.data(PATH_ROLE))])
        self._update_buttons()

    def _show(self, item: DenoiseItem) -> None:
        note = {"queued": "(waiting)", "working": "(working…)", "failed": "(failed)", "cancelled": "(cancelled)"}
        self.compare.set_images(item.original, item.denoised, note.get(item.status, ""))
        self._update_buttons()

    def _item_text(self, item: DenoiseItem) -> str:
        return f"{Path(item.path).name} — {item.status}"

    def _set_status(self, path: str, status: str) -> None:
        item = self.items.get(path)
        if item is None:
            return
        item.status = status
        for row in range(self.list.count()):
            widget_item = self.list.item(row)
            if widget_item.data(PATH_ROLE) == path:
                widget_item.setText(self._item_text(item))
                if item.message:
                    widget_item.setToolTip(item.message)
        if self.current_path() == path:
            self._show(item)

    def show_message(self, text: str, error: bool = False) -> None:
        """Show a message under the images and in the status bar."""
        self.message.setText(text)
        self.message.setStyleSheet("color: #d62728;" if error else "")
        self.sigStatus.emit(text)

    def _update_buttons(self) -> None:
        item = self.items.get(self.current_path())
        self.save_button.setEnabled(item is not None and item.denoised is not None)
        self.save_all_button.setEnabled(any(i.denoised is not None for i in self.items.values()))
        self.cancel_button.setEnabled(self.job is not None)

    # -- opening and saving ------------------------------------------------------------------
    def open_dialog(self) -> None:
        """Choose photos with a file dialog."""
        patterns = " ".join(f"*{s}" for s in image_suffixes())
        filters = f"Images ({patterns});;All files (*)"
        files, _ = QFileDialog.getOpenFileNames(self, "Open photos to denoise", "", filters)
        if files:
            self.add_paths(files)

    def save_dialog(self) -> None:
        """Choose where to save the selected result (default '<stem>_denoised.png')."""
        path = self.current_path()
        item = self.items.get(path)
        if item is None or item.denoised is None:
            self.show_message("Nothing to save yet: the selected photo has no denoised result")
            return
        target, _ = QFileDialog.getSaveFileName(self, "Save denoised photo", str(default_output_path(path)),
                                                "PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff)")
        if target:
            self.save_current(target)

    def save_current(self, target: str | Path | None = None) -> Path | None:
        """Save the selected photo's result to ``target`` (default beside it); never over the original."""
        return self.save_item(self.current_path(), target)

    def save_item(self, path: str, target: str | Path | None = None) -> Path | None:
        """Save one result; returns where, or None with a message saying why not."""
        item = self.items.get(path)
        if item is None or item.denoised is None:
            self.show_message("Nothing to save yet: that photo has no denoised result")
            return None
        out = Path(target) if target is not None else default_output_path(path)
        if out.resolve() == Path(path).resolve():
            self.show_message(f"Refusing to overwrite the original {out}; choose another name", error=True)
            return None
        from nnkit.denoise.imageio import write_image

        try:
            written = Path(write_image(out, item.denoised))
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not save {out}: {exc}", error=True)
            return None
        item.saved_to = str(written)
        self.show_message(f"Saved {written}")
        return written

    def save_all(self) -> list[Path]:
        """Save every result not saved yet beside its original."""
        pending = [i.path for i in self.items.values() if i.denoised is not None and not i.saved_to]
        saved = [p for p in (self.save_item(path) for path in pending) if p is not None]
        self.show_message(f"Saved {len(saved)} photo(s)")
        return saved
