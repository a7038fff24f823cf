"""CurvesPanel: live loss (per step, raw + smoothed) and validation PSNR (per epoch) of every run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from denoise_gui.runs import RunRecord


@dataclass
class _RunItems:
    raw: pg.PlotDataItem
    smooth: pg.PlotDataItem
    psnr: pg.PlotDataItem
    floor: pg.InfiniteLine
    label: str


class IntegerAxis(pg.AxisItem):
    """An axis with ticks on whole numbers only (epochs)."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        """pyqtgraph's spacings, none finer than 1."""
        spacings = [(max(spacing, 1.0), offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)]
        unique: list[tuple[float, float]] = []
        for item in spacings:
            if item not in unique:
                unique.append(item)
        return unique


def _finite(values: list[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    array[~np.isfinite(array)] = np.nan
    return array


class CurvesPanel(QWidget):
    """Two plots; each run gets its colour, a legend entry, and can be hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(self, title="Training loss")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.loss_legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.psnr_plot = pg.PlotWidget(
            self, title="Validation PSNR (dashed: noisy input)", axisItems={"bottom": IntegerAxis("bottom")}
        )
        self.psnr_plot.setLabel("bottom", "epoch")
        self.psnr_plot.setLabel("left", "PSNR", units="dB")
        self.psnr_plot.showGrid(x=True, y=True, alpha=0.2)
        self.psnr_legend = self.psnr_plot.addLegend(offset=(-10, -10))
        self.loss_plot.getAxis("left").enableAutoSIPrefix(False)
        for plot in (self.loss_plot, self.psnr_plot):
            plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            plot.getPlotItem().setClipToView(True)
            plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.log_check = QCheckBox("Log-scale loss", self)
        self.log_check.setToolTip("Show the loss axis on a log scale")
        self.log_check.toggled.connect(self.set_log_scale)
        self.items: dict[int, _RunItems] = {}
        self.plots_widget = QWidget(self)
        plots = QHBoxLayout(self.plots_widget)
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.loss_plot, 1)
        plots.addWidget(self.psnr_plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plots_widget, 1)
        self.export_button = QPushButton("Export plots…", self)
        self.export_button.setToolTip("Save both plots as they are shown, as PNG or SVG")
        controls = QHBoxLayout()
        controls.addWidget(self.log_check)
        controls.addStretch(1)
        controls.addWidget(self.export_button)
        layout.addLayout(controls)

    def set_log_scale(self, on: bool) -> None:
        """Log or linear loss axis."""
        self.loss_plot.setLogMode(y=on)
        if self.log_check.isChecked() != on:
            self.log_check.setChecked(on)

    def _items(self, run: RunRecord) -> _RunItems:
        if run.run_id not in self.items:
            colour = pg.mkColor(run.colour)
            faint = pg.mkColor(run.colour)
            faint.setAlpha(110)
            raw = self.loss_plot.plot(pen=pg.mkPen(faint, width=1))
            smooth = self.loss_plot.plot(pen=pg.mkPen(colour, width=2), name=run.label)
            psnr = self.psnr_plot.plot(
                pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6, symbolBrush=colour, name=run.label
            )
            floor = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            floor.setVisible(False)
            self.psnr_plot.addItem(floor)
            self.items[run.run_id] = _RunItems(raw, smooth, psnr, floor, run.label)
        return self.items[run.run_id]

    def update_run(self, run: RunRecord) -> None:
        """Redraw one run's curves from its record (GUI thread only)."""
        items = self._items(run)
        if run.steps:
            steps = np.asarray(run.steps, dtype=float)
            items.raw.setData(steps, _finite(run.losses), connect="finite")
            items.smooth.setData(steps, _finite(run.smoothed), connect="finite")
        if run.epochs:
            items.psnr.setData(np.asarray(run.epochs, dtype=float), _finite(run.psnrs), connect="finite")
        if np.isfinite(run.noisy_psnr):
            items.floor.setValue(run.noisy_psnr)
            items.floor.setVisible(run.visible)

    def set_run_visible(self, run: RunRecord, visible: bool) -> None:
        """Show or hide a run's curves and legend entries."""
        items = self._items(run)
        for item in (items.raw, items.smooth, items.psnr):
            item.setVisible(visible)
        items.floor.setVisible(visible and bool(np.isfinite(run.noisy_psnr)))
        for legend, item in ((self.loss_legend, items.smooth), (self.psnr_legend, items.psnr)):
            legend.removeItem(item)
            if visible:
                legend.addItem(item, items.label)

    def remove_run(self, run: RunRecord) -> None:
        """Take a run's curves off the plots."""
        items = self.items.pop(run.run_id, None)
        if items is None:
            return
        for legend, item in ((self.loss_legend, items.smooth), (self.psnr_legend, items.psnr)):
            legend.removeItem(item)
        for plot, item in ((self.loss_plot, items.raw), (self.loss_plot, items.smooth), (self.psnr_plot, items.psnr),
                           (self.psnr_plot, items.floor)):
            plot.removeItem(item)

    def export_image(self, path: str | Path) -> Path:
        """Save both plots as they are shown: PNG (or another raster format) by suffix, or SVG."""
        path = Path(path)
        target = self.plots_widget
        if path.suffix.lower() == ".svg":
            from PySide6.QtSvg import QSvgGenerator

            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(target.size())
            generator.setViewBox(QRect(QPoint(0, 0), target.size()))
            generator.setTitle("denoise-gui training curves")
            painter = QPainter(generator)
            try:
                target.render(painter, QPoint(0, 0))
            finally:
                painter.end()
            if not path.is_file():
                raise OSError(f"could not write {path}")
            return path
        if not target.grab().save(str(path)):
            raise OSError(f"could not write {path} (unknown image format {path.suffix!r}?)")
        return path

    def legend_labels(self) -> list[str]:
        """Names in the loss legend (for tests)."""
        return [label.text for _, label in self.loss_legend.items]

    def clear(self) -> None:
        """Remove every run."""
        self.loss_plot.clear()
        self.psnr_plot.clear()
        self.loss_legend.clear()
        self.psnr_legend.clear()
        self.items.clear()
