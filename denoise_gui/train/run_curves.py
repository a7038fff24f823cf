"""One run on the CurvesPanel's plots: its items (raw and smoothed loss, PSNR, noisy floor, divergence
marker), and the arrays they draw: the x of each axis, and where the loss diverged."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from denoise_gui.train.runs import RunRecord
from denoise_gui.widgets import plot_range

DIVERGED_COLOUR = "#d62728"


def finite(values: list[float] | np.ndarray) -> np.ndarray:
    """``values`` as floats with NaN for every non-finite one (a gap in a curve drawn with connect="finite")."""
    array = np.array(values, dtype=float)
    array[~np.isfinite(array)] = np.nan
    return array


def run_x(run: RunRecord, axis: str, *, epochs: bool) -> np.ndarray:
    """The x of a run's steps (or of its epochs) on the 'steps', 'images' or 'time' axis."""
    if axis == "images":
        return np.asarray(run.images_seen(run.epoch_steps if epochs else run.steps), dtype=float)
    if axis == "time":
        return np.asarray(run.epoch_wall if epochs else run.wall_s, dtype=float)
    return np.asarray(run.epochs if epochs else run.steps, dtype=float)


def diverged_from(run: RunRecord) -> int:
    """Index of the run's first loss that counts as diverged (len(losses) if none): where its values blow up,
    or, for a run that diverged by its validation PSNR (its loss high but not blown up), the first step of
    the epoch that failed validation (the trainer stops at that validation: the last epoch recorded)."""
    start = plot_range.divergence_start(np.asarray(run.losses, float))
    if run.status == "diverged" and start == len(run.losses) and run.epoch_steps:
        good_until = run.epoch_steps[-2] if len(run.epoch_steps) >= 2 else 0
        start = int(np.searchsorted(np.asarray(run.steps), good_until, side="right"))
    return start


def x_text(value: float, axis: str) -> str:
    """An x value as the hover readout writes it."""
    if not math.isfinite(value):
        return "–"
    if axis == "time":
        return f"{value:.1f}"
    return f"{value:,.0f}"


@dataclass
class RunCurves:
    """The plot items of one run, in its colour."""

    raw: pg.PlotDataItem
    smooth: pg.PlotDataItem
    psnr: pg.PlotDataItem
    floor: pg.InfiniteLine
    marker: pg.ScatterPlotItem
    label: str
    psnr_key: tuple[int, str] = (-1, "")  # (epochs drawn, x-axis): the PSNR curve is redrawn only when it changes

    @classmethod
    def add_to(cls, loss_plot: pg.PlotWidget, psnr_plot: pg.PlotWidget, run: RunRecord) -> RunCurves:
        """Make the run's items on the two plots (the smoothed loss and the PSNR get legend entries)."""
        colour = pg.mkColor(run.colour)
        faint = pg.mkColor(run.colour)
        faint.setAlpha(90)
        raw = loss_plot.plot(pen=pg.mkPen(faint, width=1))
        smooth = loss_plot.plot(pen=pg.mkPen(colour, width=2), name=run.label)
        psnr = psnr_plot.plot(
            pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour, name=run.label
        )
        floor = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
        floor.setVisible(False)
        psnr_plot.addItem(floor)
        marker = pg.ScatterPlotItem(symbol="t1", size=14, brush=pg.mkBrush(DIVERGED_COLOUR), pen=pg.mkPen("w", width=1))
        marker.setZValue(5)
        loss_plot.addItem(marker)
        return cls(raw, smooth, psnr, floor, marker, run.label)

    def remove_from(self, loss_plot: pg.PlotWidget, psnr_plot: pg.PlotWidget) -> None:
        """Take the items off the plots (their legend entries are the panel's to remove)."""
        for plot, item in ((loss_plot, self.raw), (loss_plot, self.smooth), (psnr_plot, self.psnr),
                           (psnr_plot, self.floor), (loss_plot, self.marker)):
            plot.removeItem(item)

    def draw(self, run: RunRecord, axis: str, top: float | None, log: bool) -> None:
        """Set the items' data from the run: the loss clipped at ``top`` (with the marker where it is), the PSNR."""
        if run.steps:
            x = run_x(run, axis, epochs=False)
            cut = diverged_from(run)
            losses = np.asarray(run.losses, float)
            smoothed = np.asarray(run.smoothed, float)
            raw, start = plot_range.clip_to(losses, top, log, cut) if top else (losses, len(run.losses))
            smooth, _ = plot_range.clip_to(smoothed, top, log, cut) if top else (smoothed, 0)
            self.raw.setData(x, finite(raw), connect="finite")
            self.smooth.setData(x, finite(smooth), connect="finite")
            if top is not None and start < len(run.losses) and np.isfinite(x[start]):
                self.marker.setData([x[start]], [math.log10(top) if log else top])
            else:
                self.marker.setData([], [])
        if run.epochs and self.psnr_key != (len(run.epochs), axis):
            self.psnr_key = (len(run.epochs), axis)
            psnrs = finite(run.psnrs)
            if np.isfinite(psnrs).any():
                self.psnr.setData(run_x(run, axis, epochs=True), psnrs, connect="finite")
            else:  # a blind-spot run on real photos validates no PSNR: nothing to draw (pyqtgraph warns)
                self.psnr.setData([], [])
        if np.isfinite(run.noisy_psnr):
            self.floor.setValue(run.noisy_psnr)
        self.set_visible(run.visible, has_floor=bool(np.isfinite(run.noisy_psnr)))

    def set_visible(self, visible: bool, *, has_floor: bool) -> None:
        for item in (self.raw, self.smooth, self.psnr, self.marker):
            item.setVisible(visible)
        self.floor.setVisible(visible and has_floor)
