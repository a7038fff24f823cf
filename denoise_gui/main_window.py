"""MainWindow: Train, Denoise and Inspect views, menus and shortcuts, drops, status bar, settings, clean close."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMainWindow, QTabWidget, QWidget

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
from nnkit.denoise.config import RunConfig

TRAIN, DENOISE, INSPECT = 0, 1, 2
USE_DEFAULT = "default"
APP_TITLE = "denoise-gui"


def shipped_checkpoint() -> Path | None:
    """nnkit.denoise.asset_paths.SHIPPED_CHECKPOINT, or None when the module is not there."""
    try:
        from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT
    except ImportError:
        return None
    return Path(SHIPPED_CHECKPOINT)


def preload_engine() -> None:
    """Import the engine on the GUI thread at start-up: a first import on a worker thread would hold
    the import locks (and the GIL, in stretches) that the GUI thread may need while it paints."""
    import importlib

    for name in ("nnkit.denoise.trainer", "nnkit.denoise.inference", "nnkit.denoise.imageio", "nnkit.denoise.data"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def inference_model(checkpoint: Any, build: Callable[[Any], Any]) -> Any:
    """The checkpoint's model on the best device ('auto'), float32, ready to denoise (worker thread)."""
    import torch

    from nnkit.denoise.device import resolve_device

    model = build(checkpoint)
    model.to(device=resolve_device("auto"), dtype=torch.float32)
    return model


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


class MainWindow(QMainWindow):
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

    # -- actions and shortcuts ---------------------------------------------------------------
    def _action(self, text: str, shortcuts: list[Any], slot: Callable[..., Any], tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _make_actions(self) -> None:
        seq = QKeySequence.StandardKey
        self.open_action = self._action("&Open images…", [seq.Open], self.open_images, "Open photos to denoise")
        self.save_action = self._action("&Save", [seq.Save], self.save, "Save the denoised photo / a checkpoint")
        self.save_checkpoint_action = self._action("Save &checkpoint…", ["Ctrl+Shift+S"], self.save_checkpoint_dialog)
        self.load_checkpoint_action = self._action("&Load checkpoint…", ["Ctrl+L"], self.load_checkpoint_dialog,
                                                   "Choose the checkpoint that denoises photos (the form is untouched)")
        self.shipped_action = self._action("Use the s&hipped checkpoint", ["Ctrl+Shift+L"], self.use_shipped_checkpoint,
                                           "Denoise with the checkpoint that comes with the app")
        self.train_from_action = self._action("&Train from a checkpoint…", ["Ctrl+Shift+T"], self.train_from_dialog,
                                              "Put a checkpoint's settings in the form so that Start continues it")
        self.use_run_action = self._action("&Use run for denoising", ["Ctrl+U"], self.use_run_for_denoising,
                                           "Denoise with the selected (or last) run's checkpoint")
        self.quit_action = self._action("&Quit", ["Ctrl+Q"], self.close)
        self.guide_action = self._action("&How to read this window", ["F1"], self.show_guide,
                                         "What the plots, the table and the Denoise view show")
        self.about_action = self._action("&About denoise-gui", ["Ctrl+F1"], self.show_about,
                                         "Versions, the compute device and where runs are kept")
        self.start_action = self._action("&Start", ["Ctrl+R"], self.train_view.start, "Start a run")
        self.pause_action = self._action("&Pause / resume", ["Ctrl+P"], self.train_view.toggle_pause)
        self.stop_action = self._action("S&top", ["Ctrl+."], self.train_view.stop, "Stop the run")
        self.escape_action = self._action("Stop / cancel", ["Esc"], self.escape)
        self.train_tab_action = self._action("&Train view", ["Ctrl+1"], lambda: self.tabs.setCurrentIndex(TRAIN))
        self.denoise_tab_action = self._action("&Denoise view", ["Ctrl+2"], lambda: self.tabs.setCurrentIndex(DENOISE))
        self.inspect_tab_action = self._action("&Inspect view", ["Ctrl+3"], lambda: self.tabs.setCurrentIndex(INSPECT))
        self.log_action = self._action("&Log-scale loss", ["Ctrl+G"], self.train_view.curves.log_check.toggle)
        compare = self.denoise_view.compare
        self.zoom_in_action = self._action("Zoom &in", [QKeySequence.StandardKey.ZoomIn, "Ctrl+="],
                                           lambda: compare.zoom_by(1.25), "Zoom into the photo")
        self.zoom_out_action = self._action("Zoom &out", [QKeySequence.StandardKey.ZoomOut],
                                            lambda: compare.zoom_by(0.8), "Zoom out of the photo")
        self.fit_action = self._action("&Fit photo", ["Ctrl+0"], compare.fit, "Show the whole photo")
        self.actual_action = self._action("&Actual pixels (1:1)", ["Ctrl+Alt+0"], compare.actual_size,
                                          "One photo pixel per screen pixel")
        self.split_action = self._action("S&plit view", ["Alt+2"], lambda: compare.set_mode("split"),
                                         "Original and result in one image, split by a line you drag")
        self.side_action = self._action("Si&de by side", ["Alt+1"], lambda: compare.set_mode("side"))
        self.difference_action = self._action("Di&fference", ["Alt+3"], lambda: compare.set_mode("difference"),
                                              "What denoising changed")
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.open_action, self.save_action, self.save_checkpoint_action, self.load_checkpoint_action,
                       self.shipped_action, self.use_run_action, self.train_from_action, self.quit_action):
            file_menu.addAction(action)
        run_menu = menu.addMenu("&Run")
        for action in (self.start_action, self.pause_action, self.stop_action):
            run_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        for action in (self.train_tab_action, self.denoise_tab_action, self.inspect_tab_action, self.log_action):
            view_menu.addAction(action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.guide_action)
        help_menu.addAction(self.about_action)
        view_menu.addSeparator()
        for action in (self.side_action, self.split_action, self.difference_action, self.zoom_in_action,
                       self.zoom_out_action, self.fit_action, self.actual_action):
            view_menu.addAction(action)

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

    # -- checkpoints -------------------------------------------------------------------------
    def _load_initial_checkpoint(self, checkpoint: str | Path | None) -> None:
        """The shipped checkpoint, unless the command line named another: never a surprise from last time."""
        if checkpoint is None:
            self._show_model("none", "")
            return
        if checkpoint != USE_DEFAULT:
            self.load_checkpoint(checkpoint)
            return
        if not self.use_shipped_checkpoint():
            self._show_model("none (no shipped checkpoint)", "")
            self.status.show_message(
                "No shipped checkpoint found: train a run, or load a checkpoint (Ctrl+L) to denoise photos"
            )

    def use_shipped_checkpoint(self) -> bool:
        """Denoise with the checkpoint that comes with the app; False if it is not there."""
        shipped = shipped_checkpoint()
        return shipped is not None and shipped.is_file() and self.load_checkpoint(shipped)

    def _show_model(self, name: str, path: str) -> None:
        self.setWindowTitle(f"{APP_TITLE} — denoising with {name}" if path else f"{APP_TITLE} — no model")
        self.status.set_checkpoint(name, path)

    def load_checkpoint(self, path: str | Path, *, quiet: bool = False) -> bool:
        """Use a checkpoint for denoising (the Train form is never touched); False, with a message, on error."""
        path = Path(path)
        try:
            from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

            checkpoint = load_checkpoint(path)
        except Exception as exc:
            if not quiet:
                self.status.show_message(f"Could not load checkpoint {path}: {exc}")
                self.train_view.show_message(f"Could not load checkpoint {path}: {exc}", "error")
                self.denoise_view.show_message(f"Could not load checkpoint {path}: {exc}", error=True)
            return False
        self.checkpoint, self.checkpoint_path = checkpoint, str(path)
        config = checkpoint.config
        name = self.checkpoint_name(path, checkpoint)
        self.denoise_view.model_label.setToolTip(
            f"{path}\n{config.arch} {config.width}, trained on {config.noise} noise\n"
            f"denoises on {describe_device('auto')}")
        trained = None  # the Gaussian σ (or blind range of σ) the model learned, as the Denoise view shows it
        if config.noise == "gaussian":
            low, high = config.noise_range or (config.noise_level, config.noise_level)
            trained = f"{low:g}" if low == high else f"{low:g}–{high:g}"
        self.denoise_view.set_model(name, lambda: inference_model(checkpoint, model_from_checkpoint), trained)
        self._show_model(name, str(path))
        self.settings.set_last_checkpoint(str(path))
        return True

    def checkpoint_name(self, path: Path, checkpoint: Any) -> str:
        """How results are labelled: by run for the runs library's checkpoints (``run 4 · epoch 4 · 27.63 dB``),
        "shipped model" for the one that comes with the app, else by file name."""
        best = getattr(checkpoint, "best_psnr", math.nan)
        parts = [f"epoch {checkpoint.epoch}"]
        if isinstance(best, float) and math.isfinite(best):
            parts.append(f"{best:.2f} dB")
        shipped = shipped_checkpoint()
        number = self.train_view.library.run_number_of(path)
        if shipped is not None and shipped.is_file() and path.resolve() == shipped.resolve():
            config = checkpoint.config
            return f"shipped model ({config.arch} {config.width}, {', '.join(parts)})"
        if number is not None:
            kept = " (best)" if path.name.endswith(".best.safetensors") else ""
            blind = ["blind-spot"] if checkpoint.config.target == "self" else []
            return " · ".join([f"run {number}{kept}", *blind, *parts])
        return " · ".join([path.name, *parts])

    def _self_trained(self, path: str, _name: str) -> None:
        """A "Train on these photos" run ended: use its model and denoise the open photos with it."""
        if self.load_checkpoint(path):
            self.denoise_view.redenoise_all()

    def load_checkpoint_dialog(self) -> None:
        """Choose a checkpoint file to denoise with."""
        start = str(Path(self.checkpoint_path).parent) if self.checkpoint_path else str(self.train_view.runs_dir)
        path = self.train_view.dialogs.open_path("Denoise with checkpoint", start, "Checkpoints (*.safetensors)")
        if path:
            self.load_checkpoint(path)

    def train_from_dialog(self) -> None:
        """Choose a checkpoint to continue training (its settings go into the form)."""
        start = str(Path(self.checkpoint_path).parent) if self.checkpoint_path else str(self.train_view.runs_dir)
        path = self.train_view.dialogs.open_path("Train from checkpoint", start, "Checkpoints (*.safetensors)")
        if path and self.train_view.train_from_path(path):
            self.tabs.setCurrentIndex(TRAIN)

    def denoise_with(self, path: str) -> bool:
        """Denoise with this checkpoint and show the Denoise view."""
        if not self.load_checkpoint(path):
            return False
        self.tabs.setCurrentIndex(DENOISE)
        return True

    def save_checkpoint_dialog(self) -> None:
        """Choose where to save the current or selected run's checkpoint."""
        default = str(Path.home() / "denoise-checkpoint.safetensors")
        path, _ = QFileDialog.getSaveFileName(self, "Save checkpoint", default, "Checkpoints (*.safetensors)")
        if path:
            self.train_view.save_checkpoint(path)

    def use_run_for_denoising(self) -> bool:
        """Denoise with the selected (or last) run's checkpoint."""
        run = self.train_view.selected_run() or self.train_view.last_run_with_checkpoint()
        if run is None or not run.checkpoint:
            self.status.show_message("No run with a checkpoint yet")
            return False
        return self.denoise_with(run.checkpoint)

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
