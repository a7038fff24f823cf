"""CurvesPanel: training loss (raw + smoothed) and validation PSNR of every run, made to read at a glance.

* x-axis of steps, images seen or wall time (runs with different batch sizes compare on images);
* a smoothing control (TensorBoard's running-average weight);
* readable axes: whole-number epochs, log ticks at 1-2-5 with plain labels, no SI-prefix surprises;
* a hover readout (run, step or epoch, value) and an empty state that says what to do;
* an "Auto-range" button, and auto-range again on double-click after zooming with the wheel;
* a diverged run (1e6…inf) does not rescale the others: the y-range comes from the values before
  each curve diverged, the diverged part is drawn clipped to the top with a red marker.

Each run's plot items, and the arrays they draw, are a ``RunCurves`` (run_curves.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from denoise_gui.train.run_curves import RunCurves, diverged_from, run_x, x_text
from denoise_gui.train.runs import SMOOTHING, RunRecord
from denoise_gui.widgets import plot_range
from denoise_gui.widgets.axes import IntegerAxis, ReadableLogAxis, format_value
from denoise_gui.widgets.flow_layout import FlowLayout
from denoise_gui.widgets.hover import HoverReadout, Points
from denoise_gui.widgets.widget_image import save_widget_image

X_AXES = (("steps", "steps", "epoch"), ("images", "images seen", "images seen"), ("time", "wall time (s)",
          "wall time (s)"))
EMPTY_LOSS = "No runs shown yet.\nPress Start (Ctrl+R): the training\nloss appears here, step by step."
EMPTY_PSNR = "The validation PSNR of each epoch\nappears here (dashed line: the\nnoisy input, the level to beat)."


class CurvesPanel(QWidget):
    """Two plots; each run gets its colour and a legend entry, and can be hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.x_axis = "steps"
        self.auto = True
        self._top: float | None = None
        self._has_data: dict[pg.PlotWidget, bool] = {}
        self.runs: dict[int, RunRecord] = {}
        self.items: dict[int, RunCurves] = {}
        self.loss_plot = pg.PlotWidget(self, title="Training loss",
                                       axisItems={"left": ReadableLogAxis("left"), "bottom": IntegerAxis("bottom")})
        self.loss_plot.getAxis("bottom").integer = False
        self.loss_plot.setLabel("left", "loss")
        self.loss_legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.psnr_plot = pg.PlotWidget(self, title="Validation PSNR (dashed: noisy input)",
                                       axisItems={"bottom": IntegerAxis("bottom"), "left": ReadableLogAxis("left")})
        self.psnr_plot.setLabel("left", "PSNR (dB)")
        self.psnr_legend = self.psnr_plot.addLegend(offset=(-10, -10))
        self.empty_texts: dict[pg.PlotWidget, pg.TextItem] = {}
        for plot, text in ((self.loss_plot, EMPTY_LOSS), (self.psnr_plot, EMPTY_PSNR)):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            plot.getPlotItem().setClipToView(True)
            plot.getPlotItem().setDownsampling(auto=True, mode="peak")
            plot.getPlotItem().hideButtons()  # the tiny "A": the Auto-range button below replaces it
            plot.getViewBox().sigRangeChangedManually.connect(self._zoomed_by_hand)
            plot.scene().sigMouseClicked.connect(self._clicked)
            empty = pg.TextItem(text, color="#9a9a9a", anchor=(0.5, 0.5))
            empty.setZValue(10)
            plot.addItem(empty, ignoreBounds=True)
            self.empty_texts[plot] = empty
        self.hover = {plot: HoverReadout(plot, self._hover_points) for plot in (self.loss_plot, self.psnr_plot)}

        self.x_combo = QComboBox(self)
        self.x_combo.setObjectName("curvesXAxis")
        self.x_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.x_combo.setMinimumContentsLength(9)
        for key, text, _ in X_AXES:
            self.x_combo.addItem(text, key)
        self.x_combo.setToolTip("Compare runs by steps, by training images seen (fair across batch sizes), or by time")
        self.x_combo.currentIndexChanged.connect(lambda index: self.set_x_axis(str(self.x_combo.itemData(index))))
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.smooth_slider.setObjectName("curvesSmoothing")
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setValue(round(SMOOTHING * 100))
        self.smooth_slider.setFixedWidth(80)
        self.smooth_slider.setToolTip("Weight of the running average drawn over the raw loss (0: none)")
        self.smooth_label = QLabel(f"{SMOOTHING:.2f}", self)
        self.smooth_slider.valueChanged.connect(lambda value: self.set_smoothing(value / 100))
        self.log_check = QCheckBox("Log loss", self)
        self.log_check.setToolTip("Show the loss axis on a log scale (Ctrl+G)")
        self.log_check.toggled.connect(self.set_log_scale)
        self.auto_button = QPushButton("Auto-range", self)
        self.auto_button.setToolTip("Show every curve again after zooming (or double-click a plot)")
        self.auto_button.clicked.connect(self.auto_range)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save both plots as they are shown, as PNG or SVG")

        self.plots_widget = QWidget(self)
        plots = QHBoxLayout(self.plots_widget)
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.psnr_plot, 1)
        controls = FlowLayout()  # wraps when narrow (the window's minimum width)
        controls.addWidget(QLabel("x-axis:", self))
        controls.addWidget(self.x_combo)
        controls.addWidget(QLabel("Smoothing:", self))
        controls.addWidget(self.smooth_slider)
        controls.addWidget(self.smooth_label)
        controls.addWidget(self.log_check)
        controls.add_stretch()
        controls.addWidget(self.auto_button)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots_widget, 1)
        layout.addLayout(controls)
        self._apply_axis_labels()
        self._update_empty()

    # -- controls --------------------------------------------------------------------------
    def set_log_scale(self, on: bool) -> None:
        """Log or linear loss axis."""
        self.loss_plot.setLogMode(y=on)
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
        self._redraw_all()

    def set_x_axis(self, key: str) -> None:
        """'steps', 'images' or 'time'."""
        if key not in {k for k, _, _ in X_AXES}:
            raise ValueError(f"unknown x-axis {key!r}")
        self.x_axis = key
        index = self.x_combo.findData(key)
        if self.x_combo.currentIndex() != index:
            self.x_combo.setCurrentIndex(index)
        self._apply_axis_labels()
        self.auto = True
        self._redraw_all()

    def set_smoothing(self, weight: float) -> None:
        """Running-average weight of the smoothed loss (0 ≤ weight < 1)."""
        weight = min(max(weight, 0.0), 0.99)
        self.smooth_label.setText(f"{weight:.2f}")
        if self.smooth_slider.value() != round(weight * 100):
            self.smooth_slider.setValue(round(weight * 100))
        for run in self.runs.values():
            run.set_smoothing(weight)
        self._redraw_all()

    def auto_range(self) -> None:
        """Fit every shown curve (diverged parts clipped), as before any zooming."""
        self.auto = True
        self._fit()

    def _zoomed_by_hand(self, *_: Any) -> None:
        self.auto = False

    def _clicked(self, event: Any) -> None:
        if event.double():
            self.auto_range()

    def _apply_axis_labels(self) -> None:
        _, loss_x, psnr_x = next(item for item in X_AXES if item[0] == self.x_axis)
        self.loss_plot.setLabel("bottom", loss_x)
        self.psnr_plot.setLabel("bottom", psnr_x)
        self.psnr_plot.getAxis("bottom").integer = self.x_axis == "steps"

    # -- data ------------------------------------------------------------------------------
    def _items(self, run: RunRecord) -> RunCurves:
        if run.run_id not in self.items:
            self.items[run.run_id] = RunCurves.add_to(self.loss_plot, self.psnr_plot, run)
        return self.items[run.run_id]

    def update_run(self, run: RunRecord) -> None:
        """Redraw one run's curves from its record (GUI thread only)."""
        self.runs[run.run_id] = run
        if run.smoothing != self.smooth_slider.value() / 100:
            run.set_smoothing(self.smooth_slider.value() / 100)
        self._items(run)
        top = self._loss_top()
        if top != self._top:  # the clipping level moved: every curve is drawn again
            self._redraw_all()
        else:
            self._redraw(run, top)
            self._update_empty()
            if self.auto:
                self._fit()

    def _loss_top(self) -> float | None:
        log = self.log_check.isChecked()
        shown = self._shown_runs()
        curves = [np.asarray(r.losses, float) for r in shown]
        limits = plot_range.value_range(curves, log=log, starts=[diverged_from(r) for r in shown])
        if limits is None:
            return None
        return 10 ** limits[1] if log else limits[1]

    def _shown_runs(self) -> list[RunRecord]:
        return [r for r in self.runs.values() if r.visible and r.run_id in self.items]

    def _redraw_all(self) -> None:
        top = self._top = self._loss_top()
        for run in self.runs.values():
            self._redraw(run, top)
        self._update_empty()
        if self.auto:
            self._fit()

    def _redraw(self, run: RunRecord, top: float | None) -> None:
        items = self.items.get(run.run_id)
        if items is not None:
            items.draw(run, self.x_axis, top, self.log_check.isChecked())

    def _fit(self) -> None:
        log = self.log_check.isChecked()
        shown = self._shown_runs()
        box = self.loss_plot.getViewBox()
        limits = plot_range.value_range([np.asarray(r.losses, float) for r in shown], log=log,
                                        starts=[diverged_from(r) for r in shown])
        box.disableAutoRange()
        if limits is not None:
            _set_range(box, y=limits)
        xs = np.concatenate([run_x(r, self.x_axis, epochs=False) for r in shown] or [np.zeros(0)])
        xs = xs[np.isfinite(xs)]
        if xs.size:
            low, high = float(xs.min()), float(xs.max())
            pad = (high - low) * 0.02 or 1.0
            _set_range(box, x=(low - pad, high + pad))
        psnr_box = self.psnr_plot.getViewBox()
        psnr_box.enableAutoRange(y=True)
        xs = np.concatenate([run_x(r, self.x_axis, epochs=True) for r in shown] or [np.zeros(0)])
        xs = xs[np.isfinite(xs)]
        if xs.size:
            low, high = float(xs.min()), float(xs.max())
            pad = max((high - low) * 0.05, 0.5 if self.x_axis == "steps" else (high - low) * 0.05 or 1.0)
            _set_range(psnr_box, x=(low - pad, high + pad))
        else:
            psnr_box.enableAutoRange(x=True)

    def _update_empty(self) -> None:
        shown = self._shown_runs()
        has_loss = any(r.steps for r in shown)
        has_psnr = any(r.epochs for r in shown)
        for plot, has in ((self.loss_plot, has_loss), (self.psnr_plot, has_psnr)):
            empty = self.empty_texts[plot]
            if self._has_data.get(plot) != has:  # the state changed (restyling axes costs a relayout: only then)
                self._has_data[plot] = has
                empty.setVisible(not has)
                for axis in ("left", "bottom"):
                    plot.getAxis(axis).setStyle(showValues=has)
            if not has:
                box = plot.getViewBox()
                (x0, x1), (y0, y1) = box.viewRange()
                empty.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def is_empty(self, plot: pg.PlotWidget) -> bool:
        """Whether a plot shows its empty-state text (for tests)."""
        return bool(self.empty_texts[plot].isVisible())

    # -- hover -----------------------------------------------------------------------------
    def _hover_points(self, plot: pg.PlotWidget) -> Points:
        """(run label, x, y as drawn, the text of point i) for each shown run of ``plot``."""
        out: Points = []
        x_name = {"steps": "step", "images": "images seen", "time": "s"}[self.x_axis]
        for run in self._shown_runs():
            items = self.items[run.run_id]
            if plot is self.loss_plot and run.steps:
                x, y_drawn = items.smooth.getData()  # as drawn: already log10 on the log axis
                if x is None or y_drawn is None:
                    continue

                def loss_text(i: int, run: RunRecord = run, x: np.ndarray = x) -> str:
                    return (f"{run.label} · {x_name} {x_text(x[i], self.x_axis)} · loss {format_value(run.losses[i])}"
                            f" (smoothed {format_value(run.smoothed[i])})")

                out.append((run.label, np.asarray(x), np.asarray(y_drawn), loss_text))
            elif plot is self.psnr_plot and run.epochs:
                xe = run_x(run, self.x_axis, epochs=True)
                epoch_name = "epoch" if self.x_axis == "steps" else x_name

                def psnr_text(i: int, run: RunRecord = run, xe: np.ndarray = xe, name: str = epoch_name) -> str:
                    return f"{run.label} · {name} {x_text(xe[i], self.x_axis)} · PSNR {run.psnrs[i]:.2f} dB"

                out.append((run.label, xe, np.asarray(run.psnrs, float), psnr_text))
        return out

    # -- runs ------------------------------------------------------------------------------
    def set_run_visible(self, run: RunRecord, visible: bool) -> None:
        """Show or hide a run's curves and legend entries."""
        run.visible = visible
        self.runs[run.run_id] = run
        items = self._items(run)
        for legend, item in ((self.loss_legend, items.smooth), (self.psnr_legend, items.psnr)):
            legend.removeItem(item)
            if visible:
                legend.addItem(item, items.label)
        self._redraw_all()

    def remove_run(self, run: RunRecord) -> None:
        """Take a run's curves off the plots."""
        self.runs.pop(run.run_id, None)
        items = self.items.pop(run.run_id, None)
        if items is None:
            return
        for legend, item in ((self.loss_legend, items.smooth), (self.psnr_legend, items.psnr)):
            legend.removeItem(item)
        items.remove_from(self.loss_plot, self.psnr_plot)
        self._redraw_all()

    def export_image(self, path: str | Path) -> Path:
        """Save both plots as they are shown: PNG (or another raster format) by suffix, or SVG."""
        return save_widget_image(self.plots_widget, Path(path), title="denoise-gui training curves")

    def legend_labels(self) -> list[str]:
        """Names in the loss legend (for tests)."""
        return [label.text for _, label in self.loss_legend.items]

    def clear(self) -> None:
        """Remove every run."""
        for run in list(self.runs.values()):
            self.remove_run(run)


def _set_range(box: pg.ViewBox, x: tuple[float, float] | None = None, y: tuple[float, float] | None = None) -> None:
    """Set a view's range only when it moves (each change costs the plot a relayout and a repaint)."""
    (x0, x1), (y0, y1) = box.viewRange()
    if x is not None and not np.allclose((x0, x1), x, rtol=1e-6, atol=1e-12):
        box.setXRange(*x, padding=0)
    if y is not None and not np.allclose((y0, y1), y, rtol=1e-6, atol=1e-12):
        box.setYRange(*y, padding=0)
