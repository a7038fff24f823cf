"""Item 5: the form fits 1280×720 without scrolling or hidden rows; a clickable, enlargeable before/after grid;
Help → About (versions, device) and the page on how to read the window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import Qt

from denoise_gui.main_window import MainWindow
from nnkit.denoise.events import Preview


def test_the_whole_form_fits_at_1280_by_720(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size().width() == 1280 and window.size().height() == 720, timeout=2000)
    qtbot.wait(50)
    view = window.train_view
    scroll = view.form.parentWidget().parentWidget()  # the scroll area around the form
    assert scroll.verticalScrollBar().maximum() == 0, "the form needs scrolling"
    viewport = scroll.viewport().rect()
    for name, editor in view.form.editors.items():
        assert editor.isVisibleTo(window), name
        top_left = editor.mapTo(scroll.viewport(), editor.rect().topLeft())
        bottom_right = editor.mapTo(scroll.viewport(), editor.rect().bottomRight())
        assert viewport.contains(top_left) and viewport.contains(bottom_right), name
    for widget in (view.curves.loss_plot, view.curves.psnr_plot, view.table, view.grid):
        assert widget.width() > 150 and widget.height() > 60


def test_grid_crops_enlarge_on_click(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    grid = window.train_view.grid
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (8, 24, 24, 3), dtype=np.uint8)
    grid.show_preview(Preview(3, crops, crops, crops, [20.0 + i for i in range(8)]))
    assert len(grid.captions()) == 8
    qtbot.mouseClick(grid.tiles[1][2], Qt.MouseButton.LeftButton)
    dialog = grid.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.title.text() == "Crop 3 of 8, epoch 3" and dialog.tiles[1].caption == "denoised, 22.00 dB"
    assert dialog.tiles[1].width() >= 250  # enlarged: the 24-pixel crop shown at ten times its size
    dialog.next_button.click()
    assert dialog.index == 3


def test_help_about_and_how_to_read(make_window: Callable[..., MainWindow], tiny_checkpoint: Any) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    menus = [action.text() for action in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    about = window.show_about()
    text = about.text()
    assert torch.__version__ in text and "Device" in text and "CPU" in text and "tiny.safetensors" in text
    assert str(window.train_view.runs_dir) in text
    guide = window.show_guide()
    assert "How to read this window" in guide.text() and "images seen" in guide.text()


def test_the_status_bar_says_the_checkpoint_once(make_window: Callable[..., MainWindow], tiny_checkpoint: Any) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    assert "tiny.safetensors" in window.status.checkpoint_label.text()
    assert "tiny.safetensors" not in window.status.currentMessage()
