"""MainWindow: Train, Denoise and Inspect views, menus and shortcuts, drops, status bar, settings, clean close.

The actions and menus are in window_menus.py, the choice of the checkpoint that denoises in
window_checkpoints.py (mixins of MainWindow); this module puts the window together and reacts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLineEdit, QMainWindow, QTabWidget, QWidget

from denoise_gui.denoise.self_train import SelfTrainPanel
from denoise_gui.denoise.view import DenoiseView
from denoise_gui.denoise.worker import DenoiseFn
from denoise_gui.drop_overlay import DropOverlay
from denoise_gui.help import GUIDE, HelpDialog, about_html
from denoise_gui.inspect.view import InspectView, gradcheck_source
from denoise_gui.paths import runs_library_dir
from denoise_gui.settings import AppSettings
from denoise_gui.status_bar import StatusBar
from denoise_gui.threads.train_worker import TrainerFactory
from denoise_gui.train.view import TrainView
from denoise_gui.widgets.devices import describe_device
from denoise_gui.window_checkpoints import (
    APP_TITLE,
    USE_DEFAULT,
    CheckpointsMixin,
    inference_model,
    shipped_checkpoint,
)
from denoise_gui.window_menus import DENOISE, INSPECT, TRAIN, MenusMixin
from nnkit.denoise.config import RunConfig

# names other modules and tests import from here; they live in window_checkpoints and window_menus
__all__ = [
    "APP_TITLE",
    "DENOISE",
    "INSPECT",
    "TRAIN",
    "USE_DEFAULT",
    "MainWindow",
    "accept_as_copy",
    "default_size",
    "inference_model",
    "preload_engine",
    "shipped_checkpoint",
]


def preload_engine() -> None:
    """Import the engine on the GUI thread at start-up: a first import on a worker thread would hold
    the import locks (and the GIL, in stretches) that the GUI thread may need while it paints."""
    import importlib

    for name in ("nnkit.denoise.trainer", "nnkit.denoise.inference", "nnkit.denoise.imageio", "nnkit.denoise.data"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def default_size(available: QSize) -> QSize:
    """1280×720, or the screen's free area when smaller (1366×768 at QT_SCALE_FACTOR=1.5 is 911×512)."""
    return QSize(1280, 720).boundedTo(available)


def accept_as_copy(event: Any) -> bool:
    """Take a drag or drop as a Copy, never the Move a file manager may propose (it could then delete the
    user's original); a source that offers no Copy is refused. True if accepted."""
    if not event.possibleActions() & Qt.DropAction.CopyAction:
        event.ignore()
        return False
    event.setDropAction(Qt.DropAction.CopyAction)
    event.accept()
    return True


class MainWindow(MenusMixin, CheckpointsMixin, QMainWindow):
    """The app window. Everything injectable for tests: settings, runs folder, checkpoint, engine."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        *,
        runs_dir: Path | None = None,
        checkpoint: str | Path | None = USE_DEFAULT,
        trainer_factory: TrainerFactory | None = None,
        denoise: DenoiseFn | None = None,
        read: Callable[[str], np.ndarray] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        preload_engine()
        self.setWindowTitle(f"{APP_TITLE} — no model")
        self.setObjectName("denoiseMainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.checkpoint: Any = None
        self.checkpoint_path = ""
        self.train_view = TrainView(runs_dir or runs_library_dir(), self.settings.last_config(),
                                    trainer_factory=trainer_factory, parent=self)
        self.denoise_view = DenoiseView(denoise=denoise, read=read, parent=self)
        self.self_train = SelfTrainPanel(self.denoise_view.photo_paths, runs_dir or runs_library_dir(),
                                         trainer_factory=trainer_factory, strength=self.denoise_view.noise.strength,
                                         parent=self)
        # its run is a run of the library, in the Train view's table and curves like the Train view's own
        self.self_train.reserve_folder = self.train_view.reserve_run_folder
        self.self_train.sigJobStarted.connect(self.train_view.follow_job)
        self.denoise_view.add_tool(self.self_train)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.train_view, "&Train")
        self.tabs.addTab(self.denoise_view, "&Denoise")
        self.inspect_view = InspectView(lambda: gradcheck_source(self.train_view), self,
                                        field_label=self.train_view.form.label_of)
        self.tabs.addTab(self.inspect_view, "&Inspect")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.drop_overlay = DropOverlay(self.tabs)
        self._make_actions()
        for editor in self.findChildren(QLineEdit):  # text fields (spin boxes too) would take dropped paths
            editor.setAcceptDrops(False)

        # each view shows its own messages; the status bar keeps the device and the checkpoint (said once)
        self.train_view.form.sigChanged.connect(self._form_changed)
        self.train_view.sigRunningChanged.connect(self._running_changed)
        self.train_view.sigConfigStarted.connect(self.settings.set_last_config)
        self.train_view.sigRunFinished.connect(self._run_finished)
        self.train_view.use_button.clicked.connect(self.use_run_for_denoising)
        self.train_view.sigDenoiseWith.connect(self.denoise_with)
        self.inspected_run: Any = None  # the run the Inspect view shows (live or stored)
        self.train_view.sigJobStarted.connect(self._inspect_live)
        self.train_view.table.sigRunChosen.connect(self.show_stored_inspection)
        self.self_train.sigStatus.connect(self.denoise_view.show_message)
        self.self_train.sigTrained.connect(self._self_trained)
        self.train_view.sigDevice.connect(lambda device: self.status.set_device(describe_device(device)))
        self.tabs.currentChanged.connect(self._view_changed)
        self._form_changed(self.train_view.form.try_config()[0])

        self.show_stored_inspection()  # the newest run's layer statistics, as the last session left them
        self._load_initial_checkpoint(checkpoint)
        geometry, state = self.settings.geometry(), self.settings.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(default_size(self.screen().availableGeometry().size()))
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(min(max(self.settings.current_view(), 0), self.tabs.count() - 1))

    def _inspect_live(self, job: Any) -> None:
        self.inspect_view.attach(job)
        self.inspected_run = self.train_view.current

    def show_stored_inspection(self, run_id: int = -1) -> None:
        """The Inspect view shows a past run's stored layer statistics: the chosen run, else the newest.

        Not the run it already shows: a run followed live keeps its histograms and shapes (not stored).
        """
        runs = self.train_view.runs
        run = runs.get(run_id) or (runs[max(runs)] if runs else None)
        if run is None or run.running or run is self.inspected_run:
            return
        try:
            layers, drift = self.train_view.library.load_inspection(run)
        except OSError as exc:
            self.inspect_view.status_label.setText(f"Could not read the metrics of {run.label}: {exc}")
            return
        if self.inspect_view.show_stored(run.label, layers, drift):
            self.inspected_run = run

    def show_guide(self) -> HelpDialog:
        """The short page on how to read the window."""
        dialog = HelpDialog("How to read this window", GUIDE, self)
        dialog.show()
        return dialog

    def show_about(self) -> HelpDialog:
        """Versions, device, runs library, checkpoint."""
        html = about_html(describe_device("auto"), self.train_view.runs_dir, self.checkpoint_path)
        dialog = HelpDialog("About denoise-gui", html, self)
        dialog.show()
        return dialog

    def escape(self) -> None:
        """Esc: stop training in the Train view, cancel denoising in the Denoise view."""
        if self.tabs.currentIndex() == DENOISE and self.denoise_view.is_busy():
            self.denoise_view.cancel()
        elif self.train_view.is_running():
            self.train_view.stop()

    def save(self) -> None:
        """Ctrl+S: the denoised photo in the Denoise view, a checkpoint in the Train view."""
        if self.tabs.currentIndex() == DENOISE:
            self.denoise_view.save_dialog()
        else:
            self.save_checkpoint_dialog()

    def open_images(self) -> None:
        """Open photos from a dialog into the Denoise view."""
        self.tabs.setCurrentIndex(DENOISE)
        self.denoise_view.open_dialog()

    # -- reacting ----------------------------------------------------------------------------
    def _form_changed(self, config: RunConfig | None) -> None:
        if config is not None and not self.train_view.is_running():
            self.status.set_device(describe_device(config.device))

    def _running_changed(self, running: bool) -> None:
        self.start_action.setEnabled(not running)

    def _run_finished(self, run: Any) -> None:
        if run.checkpoint:
            self.status.show_message(f"{run.label} saved to {run.checkpoint}: Ctrl+U denoises with it")

    def _view_changed(self, index: int) -> None:
        self.settings.set_current_view(index)

    # -- drops -------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept local files and folders."""
        if event.mimeData().hasUrls() and any(url.isLocalFile() for url in event.mimeData().urls()):
            if accept_as_copy(event):
                self.drop_overlay.show_for_drag()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: Any) -> None:
        """The drag left the window: no highlight."""
        self.drop_overlay.hide()

    def dragMoveEvent(self, event: Any) -> None:
        """Keep accepting while the drag moves over the window."""
        if event.mimeData().hasUrls():
            accept_as_copy(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Dropped files and folders go to the Denoise view."""
        self.drop_overlay.hide()
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths and accept_as_copy(event):
            self.open_paths(paths)

    def open_paths(self, paths: list[str]) -> int:
        """Denoise these files/folders (switching to the Denoise view)."""
        self.tabs.setCurrentIndex(DENOISE)
        return self.denoise_view.add_paths(paths)

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember settings, stop the workers (within about a second), then close."""
        config = self.train_view.form.try_config()[0]
        if config is not None:
            self.settings.set_last_config(config)
        self.settings.set_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.train_view.shutdown(3000)
        self.denoise_view.shutdown(3000)
        self.self_train.shutdown(3000)
        self.inspect_view.wait_for_workers(3000)
        event.accept()
