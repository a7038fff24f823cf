"""Item 4, plots that read: empty states, axes, auto-range, hover, x-axis choice, smoothing, diverged runs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from denoise_gui.train.curves import CurvesPanel
from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets.axes import IntegerAxis, ReadableLogAxis, log_ticks
from denoise_gui.widgets.plot_range import divergence_start, value_range
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Step


@pytest.fixture
def panel(qtbot: Any) -> CurvesPanel:
    widget = CurvesPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 320)
    widget.show()
    return widget


def make_run(run_id: int, losses: list[float], batch_size: int = 16, epochs: int = 2) -> RunRecord:
    run = RunRecord(run_id, RunConfig(batch_size=batch_size))
    per_epoch = max(len(losses) // epochs, 1)
    for i, loss in enumerate(losses, start=1):
        run.on_steps([Step(i, (i - 1) // per_epoch + 1, loss, 100.0)])
        run.wall_s[-1] = 0.5 * i  # a known pace instead of the test's own timing
        if i % per_epoch == 0:
            run.on_epoch(Epoch(i // per_epoch, loss, 20.0 + i / per_epoch, 0.5 * i, 0.0))
    return run


def test_empty_state_then_curves(panel: CurvesPanel) -> None:
    assert panel.is_empty(panel.loss_plot) and panel.is_empty(panel.psnr_plot)
    assert "Start" in panel.empty_texts[panel.loss_plot].textItem.toPlainText()
    assert not panel.loss_plot.getAxis("left").style["showValues"]  # no meaningless 0–1 ticks
    panel.update_run(make_run(1, [0.1, 0.05, 0.04, 0.03]))
    assert not panel.is_empty(panel.loss_plot) and not panel.is_empty(panel.psnr_plot)
    assert panel.loss_plot.getAxis("left").style["showValues"]


def test_epoch_ticks_are_whole_numbers_without_a_prefix(panel: CurvesPanel) -> None:
    run = RunRecord(1, RunConfig())
    run.on_steps([Step(1, 1, 0.1, 10.0)])
    run.on_epoch(Epoch(1, 0.1, 24.0, 1.0, 1.0))  # one point: the old axis read "epoch (x0.001)"
    panel.update_run(run)
    axis = panel.psnr_plot.getAxis("bottom")
    assert isinstance(axis, IntegerAxis) and axis.integer
    (low, high), _ = panel.psnr_plot.getViewBox().viewRange()
    assert high - low >= 1.0
    assert all(spacing >= 1 for spacing, _ in axis.tickSpacing(low, high, 400))
    assert axis.tickStrings([1.0, 2.0], 1.0, 1.0) == ["1", "2"]
    assert "x0.001" not in axis.labelString() and "epoch" in axis.labelString()


def test_log_ticks_read_within_one_decade() -> None:
    axis = ReadableLogAxis("left")
    axis.setLogMode(False, True)
    (_, ticks), = axis.tickValues(math.log10(0.006), math.log10(0.013), 300)
    labels = axis.tickStrings(ticks, 1.0, 1.0)
    assert len(labels) >= 3 and "0.01" in labels and all("e" not in label for label in labels)
    assert [round(10**t, 6) for t in log_ticks(-3, 0)] == [0.001, 0.01, 0.1, 1.0]


def wheel(widget: Any, steps: int) -> None:
    point = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(point, widget.mapToGlobal(point), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_auto_range_button_and_double_click(qtbot: Any, panel: CurvesPanel) -> None:
    panel.update_run(make_run(1, list(np.linspace(1.0, 0.1, 20))))
    box = panel.loss_plot.getViewBox()
    fitted = box.viewRange()
    wheel(panel.loss_plot.viewport(), 3)
    assert not panel.auto and box.viewRange() != fitted
    assert panel.auto_button.isVisible() and panel.auto_button.text() == "Auto-range"
    panel.auto_button.click()
    assert panel.auto and np.allclose(box.viewRange(), fitted, rtol=1e-3)
    wheel(panel.loss_plot.viewport(), 2)
    assert not panel.auto
    viewport, left = panel.loss_plot.viewport(), Qt.MouseButton.LeftButton
    qtbot.mouseClick(viewport, left, pos=viewport.rect().center())
    qtbot.mouseDClick(viewport, left, pos=viewport.rect().center())
    qtbot.mouseRelease(viewport, left, pos=viewport.rect().center())
    assert panel.auto and np.allclose(box.viewRange(), fitted, rtol=1e-3)


def test_hover_reads_run_step_and_value(panel: CurvesPanel) -> None:
    run = make_run(3, [0.4, 0.3, 0.2, 0.1])
    panel.update_run(run)
    x, y = panel.items[3].smooth.getData()
    box = panel.loss_plot.getViewBox()
    text = panel.hover[panel.loss_plot].show_at(box.mapViewToScene(QPointF(x[2], y[2])))
    assert text.startswith("run 3 · step 3 · loss 0.2")
    far = box.mapViewToScene(QPointF(x[0], y[0] * 10))
    assert panel.hover[panel.loss_plot].show_at(far) in ("", text) or "run 3" in text


def test_hover_reads_in_log_mode_and_hides_when_the_mouse_leaves(qtbot: Any, panel: CurvesPanel) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    run = make_run(3, [0.4, 0.3, 0.2, 0.1])
    panel.update_run(run)
    panel.log_check.setChecked(True)
    hover = panel.hover[panel.loss_plot]
    x, y = panel.items[3].smooth.getData()  # as drawn: log10 of the loss
    box = panel.loss_plot.getViewBox()
    qtbot.waitUntil(lambda: box.viewRange()[1][0] < y[2] < box.viewRange()[1][1], timeout=3000)
    text = hover.show_at(box.mapViewToScene(QPointF(x[2], y[2])))
    assert text.startswith("run 3 · step 3 · loss 0.2") and hover.text.isVisible()
    QApplication.sendEvent(panel.loss_plot.viewport(), QEvent(QEvent.Type.Leave))
    assert not hover.text.isVisible() and not hover.dot.isVisible()
    hover._moved((box.mapViewToScene(QPointF(x[2], y[2])),))  # a rate-limited move arriving after the leave
    assert not hover.text.isVisible()
    QApplication.sendEvent(panel.loss_plot.viewport(), QEvent(QEvent.Type.Enter))
    hover._moved((box.mapViewToScene(QPointF(x[2], y[2])),))
    assert hover.text.isVisible()


def test_x_axis_steps_images_seen_and_wall_time(panel: CurvesPanel) -> None:
    small, large = make_run(1, [0.3, 0.2, 0.1, 0.05], batch_size=8), make_run(2, [0.3, 0.2], batch_size=32, epochs=1)
    panel.update_run(small)
    panel.update_run(large)
    assert list(panel.items[2].smooth.getData()[0]) == [1, 2]
    panel.x_combo.setCurrentIndex(panel.x_combo.findData("images"))
    assert panel.x_axis == "images" and "images seen" in panel.loss_plot.getAxis("bottom").labelString()
    assert list(panel.items[1].smooth.getData()[0]) == [8, 16, 24, 32]
    assert list(panel.items[2].smooth.getData()[0]) == [32, 64]
    assert list(panel.items[2].psnr.getData()[0]) == [64]
    assert not panel.psnr_plot.getAxis("bottom").integer
    panel.set_x_axis("time")
    assert list(panel.items[1].smooth.getData()[0]) == [0.5, 1.0, 1.5, 2.0]
    assert "wall time" in panel.loss_plot.getAxis("bottom").labelString()


def test_smoothing_control(panel: CurvesPanel) -> None:
    run = make_run(1, [1.0, 0.0, 1.0, 0.0])
    panel.update_run(run)
    panel.smooth_slider.setValue(0)
    assert list(panel.items[1].smooth.getData()[1]) == [1.0, 0.0, 1.0, 0.0]
    panel.smooth_slider.setValue(90)
    smoothed = panel.items[1].smooth.getData()[1]
    assert 0.0 < smoothed[1] < 1.0 and panel.smooth_label.text() == "0.90"


def test_a_diverged_run_does_not_rescale_the_others(panel: CurvesPanel) -> None:
    healthy = make_run(1, list(np.linspace(0.5, 0.05, 10)))
    diverged = make_run(2, [0.5, 0.4, 3e3, 1e8, math.inf])
    panel.update_run(healthy)
    alone = panel.loss_plot.getViewBox().viewRange()[1]
    panel.update_run(diverged)
    low, high = panel.loss_plot.getViewBox().viewRange()[1]
    assert high < 1.0 and np.allclose((low, high), alone, rtol=0.05)  # the healthy curve keeps its scale
    drawn = panel.items[2].raw.getData()[1]
    assert np.nanmax(drawn) <= high and drawn[2] == pytest.approx(drawn[4])  # clipped to the top, not off-scale
    marker_x, marker_y = panel.items[2].marker.getData()
    assert list(marker_x) == [3] and marker_y[0] == pytest.approx(drawn[2])
    assert list(panel.items[1].raw.getData()[1]) == pytest.approx(healthy.losses)
    panel.set_log_scale(True)
    low, high = panel.loss_plot.getViewBox().viewRange()[1]
    assert high < 0.0  # log10 of the healthy range, not of 1e8


def test_a_run_diverged_by_its_psnr_does_not_rescale_the_others(panel: CurvesPanel) -> None:
    """Its loss climbs (0.05 -> 0.3: flat grey output) without blowing up 10x: its status says it diverged."""
    from nnkit.denoise.events import Finished

    healthy = make_run(1, list(np.linspace(0.06, 0.01, 12)))
    panel.update_run(healthy)
    alone = panel.loss_plot.getViewBox().viewRange()[1]
    bad = make_run(2, [0.06, 0.05, 0.05, 0.04, 0.3, 0.31], epochs=3)  # epoch 3 (steps 5-6) fails validation
    panel.update_run(bad)
    assert panel.loss_plot.getViewBox().viewRange()[1][1] > 0.3  # while running: just a high loss
    bad.on_finished(Finished("diverged", "the validation PSNR fell more than 1 dB below the noisy input's"))
    panel.update_run(bad)
    low, high = panel.loss_plot.getViewBox().viewRange()[1]
    assert np.allclose((low, high), alone, rtol=0.05) and high < 0.1  # the other curves keep their scale
    drawn = panel.items[2].raw.getData()[1]
    assert np.nanmax(drawn) <= high and drawn[4] == pytest.approx(drawn[5])  # the failed epoch drawn at the top
    marker_x, _ = panel.items[2].marker.getData()
    assert list(marker_x) == [5]  # from the first step of the epoch that failed validation
    panel.set_log_scale(True)
    assert panel.loss_plot.getViewBox().viewRange()[1][1] < math.log10(0.1)


def test_divergence_detection() -> None:
    assert divergence_start(np.array([1.0, 0.5, 0.2])) == 3
    assert divergence_start(np.array([1.0, 0.5, 20.0, 0.1])) == 2
    assert divergence_start(np.array([1.0, math.nan])) == 1
    assert value_range([np.array([math.inf])]) is None


def test_export_writes_png_and_svg_and_names_a_bad_type(panel: CurvesPanel, tmp_path: Any) -> None:
    panel.update_run(make_run(1, [0.1, 0.05, 0.04, 0.03]))
    png = panel.export_image(tmp_path / "curves.png")
    assert png.read_bytes().startswith(b"\x89PNG")
    svg = panel.export_image(tmp_path / "curves.svg")
    assert b"<svg" in svg.read_bytes() and b"denoise-gui training curves" in svg.read_bytes()
    with pytest.raises(OSError, match="unknown image format"):
        panel.export_image(tmp_path / "curves.notatype")
    assert not (tmp_path / "curves.notatype").exists()
