"""The window's actions: each a shortcut (window-wide) and a menu entry of File, Run, View or Help.

A mixin of MainWindow (main_window.py), which provides the slots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenuBar, QTabWidget, QWidget

from denoise_gui.denoise.view import DenoiseView
from denoise_gui.train.view import TrainView

TRAIN, DENOISE, INSPECT = 0, 1, 2  # the views in tab order (Ctrl+1, Ctrl+2, Ctrl+3)


class MenusMixin:
    """Makes the window's actions (``open_action``, ``start_action``, ...) and its menus."""

    tabs: QTabWidget
    train_view: TrainView
    denoise_view: DenoiseView

    if TYPE_CHECKING:  # provided by MainWindow, its CheckpointsMixin and QMainWindow

        def open_images(self) -> None: ...
        def save(self) -> None: ...
        def escape(self) -> None: ...
        def show_guide(self) -> Any: ...
        def show_about(self) -> Any: ...
        def save_checkpoint_dialog(self) -> None: ...
        def load_checkpoint_dialog(self) -> None: ...
        def use_shipped_checkpoint(self) -> bool: ...
        def train_from_dialog(self) -> None: ...
        def use_run_for_denoising(self) -> bool: ...
        def close(self) -> bool: ...
        def menuBar(self) -> QMenuBar: ...

    def _action(self, text: str, shortcuts: list[Any], slot: Callable[..., Any], tip: str = "") -> QAction:
        window = cast(QWidget, self)
        action = QAction(text, window)
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setStatusTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        window.addAction(action)
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
        self._make_menus()

    def _make_menus(self) -> None:
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
