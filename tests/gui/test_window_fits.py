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
    counts = [11_000 + i for i in range(40)]  # five-digit counts: the widest left axis
    view.histograms.show_layer(Histogram(-23.456, 1234.5, counts), Histogram(-0.0011, 0.00052, counts), 40)
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


def _overlaps(widgets: list[Any], window: Any) -> list[str]:
    """Pairs of shown widgets that overlap, or a widget outside its parent: what a wrapped row must never do."""
    from PySide6.QtCore import QRect

    shown = [w for w in widgets if w.isVisibleTo(window)]
    boxes = [QRect(w.mapTo(window, w.rect().topLeft()), w.size()) for w in shown]
    problems = [f"{type(a).__name__} and {type(b).__name__}" for i, a in enumerate(shown) for b in shown[i + 1:]
                if boxes[i].intersects(boxes[shown.index(b)])]
    problems += [type(w).__name__ for w in shown if not w.parentWidget().rect().contains(w.geometry())]
    return problems


def test_the_window_fits_a_1366_px_screen_at_150_percent(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    view = window.train_view
    from PySide6.QtWidgets import QLabel

    rows = {  # the rows that wrap when narrow
        "buttons": [view.start_button, view.pause_button, view.stop_button, view.resume_check, view.processes,
                    view.use_button, view.save_button],
        "curve controls": [*view.curves.findChildren(QLabel), view.curves.x_combo, view.curves.smooth_slider,
                           view.curves.log_check, view.curves.auto_button, view.curves.export_button],
        "run filters": [view.runs_panel.date_combo, view.runs_panel.arch_combo, view.runs_panel.export_button,
                        view.runs_panel.reveal_button, view.runs_panel.delete_button],
    }
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280, timeout=2000)
    assert view.start_button.y() == view.save_button.y()  # one line when there is room
    # logical pixels scale with QT_SCALE_FACTOR (fonts included): 1.5 × the minimum at 1, plus a window frame
    least = window.minimumSizeHint()
    assert least.width() * 1.5 + 16 <= 1366, f"{least.width()} px wide at scale 1: {least.width() * 1.5:.0f} at 1.5"
    assert least.height() * 1.5 + 80 <= 768
    window.resize(1366 * 2 // 3 - 10, 768 * 2 // 3 - 40)
    qtbot.waitUntil(lambda: window.width() <= 1366 * 2 // 3, timeout=2000)
    qtbot.wait(50)
    for name, widgets in rows.items():
        assert _overlaps(widgets, window) == [], name
    for name, editor in view.form.editors.items():
        assert editor.isVisibleTo(window) and editor.width() > 20, name


def test_the_first_window_is_never_larger_than_the_screen() -> None:
    from PySide6.QtCore import QSize

    from denoise_gui.main_window import default_size

    assert default_size(QSize(1920, 1040)) == QSize(1280, 720)
    assert default_size(QSize(1366 * 2 // 3, 728 * 2 // 3)) == QSize(910, 485)  # 1366×768 at 150%, a taskbar
