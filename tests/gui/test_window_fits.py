"""Item 5: the form fits 1280×720 without scrolling or hidden rows; a clickable, enlargeable before/after grid;
Help → About (versions, device) and the page on how to read the window."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import Qt

from denoise_gui.main_window import MainWindow
from nnkit.denoise.events import Lockstep, Preview
from nnkit.layer_stats import Histogram


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


def _plots_fit(view: Any) -> list[str]:
    """What does not fit in the Inspect view's plots: a title or axis wider than its plot, a legend outside it."""
    import pyqtgraph as pg

    problems = []
    for plot in view.findChildren(pg.PlotWidget):
        item = plot.getPlotItem()
        title = item.titleLabel.item.toPlainText()
        viewport = plot.viewport().rect()
        least = item.effectiveSizeHint(Qt.SizeHint.MinimumSize)
        if least.width() > viewport.width() or least.height() > viewport.height():
            problems.append(f"{title!r}: needs {least.width():.0f}×{least.height():.0f}, has {viewport.width()}×"
                            f"{viewport.height()}")
        shown = plot.mapFromScene(item.sceneBoundingRect()).boundingRect()
        if not viewport.adjusted(-1, -1, 1, 1).contains(shown):
            problems.append(f"{title!r}: drawn at {shown}, outside {viewport}")
        legend = item.legend
        if legend is not None and legend.isVisible():
            box = plot.mapFromScene(legend.sceneBoundingRect()).boundingRect()
            if not viewport.contains(box):
                problems.append(f"{title!r}: legend at {box}, outside {viewport}")
    return problems


def test_the_inspect_view_is_readable_at_1280_by_720(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    from PySide6.QtWidgets import QLabel

    from denoise_gui.main_window import INSPECT

    window = make_window()
    window.tabs.setCurrentIndex(INSPECT)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size().width() == 1280 and window.size().height() == 720, timeout=2000)
    view = window.inspect_view
    for off in (True, False):  # the lockstep plot with its "off" note, then with its legend
        view.lockstep.set_off(off)
        qtbot.wait(50)
        assert _plots_fit(view) == []
    # the longest titles a run gives: wide histogram ranges, a drift with its values
    counts = list(range(40))
    view.histograms.show_layer(Histogram(-23.456, 1234.5, counts), Histogram(-1.5e-05, 2.25e-06, counts), 40)
    view.lockstep.show_drift([Lockstep(s, 0.1, 0.1, 1.234e-07 * s, 2.5e-06 * s) for s in range(1, 9)])
    qtbot.wait(50)
    assert "-23" in view.histograms.activations.getPlotItem().titleLabel.item.toPlainText()
    assert _plots_fit(view) == []
    least = view.minimumSizeHint()
    assert least.width() <= view.width() and least.height() <= view.height()
    for label in view.findChildren(QLabel):
        if label.isVisibleTo(window) and not label.wordWrap():
            assert label.sizeHint().width() <= label.width(), label.text()
    for table in (view.gradcheck_table, view.pipeline_table):
        header = table.horizontalHeader()
        assert header.length() <= table.viewport().width() + 1 and table.height() > 100
