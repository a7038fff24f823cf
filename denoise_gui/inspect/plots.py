"""The Inspect view's plots: per-layer curves over steps, histograms of one layer, lockstep drift.

They only draw: every number arrives computed, in LayerStats and Lockstep events (plain data).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from denoise_gui.inspect import reading
from nnkit.denoise.events import Lockstep
from nnkit.layer_stats import Histogram

# Titles short enough for a third of the left pane at 1280×720: a pyqtgraph title never shrinks, a
# longer one pushes the plot's axes out of its widget (tests/gui/test_window_fits.py checks it).
LOCKSTEP_TITLE = "Lockstep drift (relative)"
SELECTED = pg.mkPen("#1f77b4", width=2.5)
OTHERS = pg.mkPen("#c7c7c7", width=1)
# (stat, title, log scale allowed, tooltip)
CURVES = (
    ("grad_out_norm", "Gradient norm (output)", True, reading.GRAD_NORM),
    ("weight_update_ratio", "Update ratio |Δw| / |w|", True, reading.UPDATE_RATIO),
    ("out_zero_frac", "Dead fraction (zeros)", False, reading.DEAD_FRACTION),
)
ACTIVATIONS, GRADIENTS = "Activations", "Gradients"  # of the chosen layer's output


def _positive(values: Sequence[float], log: bool) -> np.ndarray:
    """The values as floats, NaN where they cannot be drawn (non-finite; not positive on a log axis)."""
    array = np.asarray(values, dtype=float)
    bad = ~np.isfinite(array) | ((array <= 0) if log else False)
    array[bad] = np.nan
    return array


class DecadeAxis(pg.AxisItem):
    """A log axis that labels only the decades when it spans one or more (minor labels overlap)."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings: list[str] = super().logTickStrings(values, scale, spacing)
        if self.range[1] - self.range[0] < 1:
            return strings
        return [text if abs(v - round(v)) < 1e-9 else "" for v, text in zip(values, strings, strict=True)]


def _plot(parent: QWidget, title: str, tip: str, bottom: str = "step") -> pg.PlotWidget:
    plot = pg.PlotWidget(parent, title=title, axisItems={"left": DecadeAxis("left")})
    plot.setToolTip(tip)
    item = plot.getPlotItem()
    item.layout.removeItem(item.titleLabel)  # the title spans the left axis's column too: ~50 px more room
    item.layout.addItem(item.titleLabel, 0, 0, 1, 3)
    plot.setLabel("bottom", bottom)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)
    plot.getAxis("left").setStyle(maxTextLevel=1)  # label decades, not every minor tick of a log axis
    return plot


class LayerCurves(QWidget):
    """Three plots over steps; the selected layer in blue, the others in grey behind it for context."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plots = {stat: _plot(self, title, tip) for stat, title, _, tip in CURVES}
        for column, plot in enumerate(self.plots.values()):
            layout.addWidget(plot, 0, column)
        self.plots["out_zero_frac"].setYRange(0, 1)
        self.log = True
        self._apply_log()

    def set_log(self, log: bool) -> None:
        """Log scale on the gradient-norm and update-ratio axes (they span orders of magnitude)."""
        self.log = log
        self._apply_log()

    def _apply_log(self) -> None:
        for stat, _, loggable, _ in CURVES:
            self.plots[stat].setLogMode(y=self.log and loggable)

    def show_layers(self, steps: Sequence[int], history: dict[str, dict[str, list[float]]], selected: str) -> None:
        """Redraw every layer's curves; ``history[layer][stat]`` is aligned with ``steps``."""
        for stat, _, loggable, _ in CURVES:
            plot = self.plots[stat]
            plot.clear()
            log = self.log and loggable
            ordered = [name for name in history if name != selected] + ([selected] if selected in history else [])
            for name in ordered:
                values = history[name].get(stat)
                if values is None:
                    continue
                pen = SELECTED if name == selected else OTHERS
                plot.plot(list(steps), _positive(values, log), pen=pen, connect="finite")

    def curve_count(self, stat: str) -> int:
        return len(self.plots[stat].listDataItems())


class LayerHistograms(QWidget):
    """Histograms of the selected layer's output and of the gradient at its output, at the latest inspection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.activations = _plot(self, ACTIVATIONS, reading.ACTIVATIONS, bottom="value")
        self.gradients = _plot(self, GRADIENTS, reading.GRADIENTS, bottom="value")
        layout.addWidget(self.activations, 0, 0)
        layout.addWidget(self.gradients, 0, 1)

    def show_layer(self, activations: Histogram | None, gradients: Histogram | None, step: int) -> None:
        for plot, histogram, colour, what in (
            (self.activations, activations, "#2ca02c", ACTIVATIONS),
            (self.gradients, gradients, "#d62728", GRADIENTS),
        ):
            plot.clear()
            if histogram is None or not histogram.counts:
                plot.setTitle(what)
                continue
            edges = np.linspace(histogram.lo, histogram.hi, len(histogram.counts) + 1)
            plot.plot(edges, histogram.counts, stepMode="center", fillLevel=0, brush=colour + "80", pen=colour)
            plot.enableAutoRange()
            plot.setTitle(f"{what} {histogram.lo:.2g} … {histogram.hi:.2g}")

    def bar_count(self) -> int:
        return len(self.activations.listDataItems()) + len(self.gradients.listDataItems())


class LockstepPlot(QWidget):
    """Relative difference of nnkit and its torch.nn twin per step: the losses and the weights (log scale).

    A wrapped line above the plot says the latest values, or that the run has no twin (and which
    field of the form turns it on): a plot title would not fit a third of the pane.
    """

    def __init__(self, parent: QWidget | None = None, field_label: str = "Lockstep twin") -> None:
        super().__init__(parent)
        self.off_text = f"Off for this run: tick “{field_label}” in the Train form to train a torch.nn twin beside it."
        self.on_text = f"nnkit against its torch.nn twin, step by step (“{field_label}” in the Train form)."
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setToolTip(reading.LOCKSTEP)
        self.plot = _plot(self, LOCKSTEP_TITLE, reading.LOCKSTEP)
        self.plot.setLogMode(y=True)
        self.plot.addLegend(offset=(-10, -10))  # bottom right: the drift climbs from the bottom left
        self.loss = self.plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), name="loss", connect="finite")
        self.weights = self.plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2), name="weights", connect="finite")
        layout.addWidget(self.note, 0, 0)
        layout.addWidget(self.plot, 1, 0)
        layout.setRowStretch(1, 1)
        self.set_off(False)

    def set_off(self, off: bool) -> None:
        """Say whether this run has a lockstep twin at all (the legend only when it has)."""
        self.note.setText(self.off_text if off else self.on_text)
        legend = self.plot.getPlotItem().legend
        if legend is not None:
            legend.setVisible(not off)

    def show_drift(self, drift: Sequence[Lockstep]) -> None:
        steps = [d.step for d in drift]
        # exact agreement (0) has no place on a log axis: drawn at the float64 floor instead
        floor = 1e-17
        self.loss.setData(steps, _positive([max(d.loss_rel_diff, floor) for d in drift], True))
        self.weights.setData(steps, _positive([max(d.weight_rel_diff, floor) for d in drift], True))
        if drift and not math.isnan(drift[-1].weight_rel_diff):
            last = drift[-1]
            self.note.setText(f"Step {last.step}: loss {last.loss_rel_diff:.1e}, weights {last.weight_rel_diff:.1e}")
