"""HoverReadout: the run, x and value of the curve point nearest the mouse, shown beside it on a plot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

HOVER_RADIUS_PX = 30
RATE_LIMIT_HZ = 30
# (run label, x and y as drawn, the text of point i)
Points = list[tuple[str, np.ndarray, np.ndarray, Callable[[int], str]]]


class HoverReadout:
    """A dot on the nearest point and a text label, for the curves ``points(plot)`` returns."""

    def __init__(self, plot: pg.PlotWidget, points: Callable[[pg.PlotWidget], Points]) -> None:
        self.plot = plot
        self.points = points
        self.text = pg.TextItem("", color="#f0f0f0", fill=pg.mkBrush(0, 0, 0, 190), anchor=(0, 1))
        self.dot = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#ffffff"), pen=pg.mkPen("#000000"))
        for item in (self.text, self.dot):
            item.setZValue(20)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self.last = ""
        self.proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=RATE_LIMIT_HZ, slot=self._moved)

    def _moved(self, args: tuple[Any, ...]) -> None:
        self.show_at(args[0])

    def show_at(self, scene_pos: QPointF) -> str:
        """Show the readout for the point nearest ``scene_pos`` (scene coordinates); returns its text."""
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            self.hide()
            return ""
        best: tuple[float, float, float, str] | None = None
        for _label, xs, ys, describe in self.points(self.plot):
            if len(xs) == 0:
                continue
            index, distance = self._nearest(box, xs, ys, scene_pos)
            if index >= 0 and (best is None or distance < best[0]):
                best = (distance, float(xs[index]), float(ys[index]), describe(index))
        if best is None or best[0] > HOVER_RADIUS_PX:
            self.hide()
            return ""
        _, x, y, readout = best
        self.dot.setData([x], [y])
        self.text.setText(readout)
        self.text.setPos(x, y)
        self.dot.setVisible(True)
        self.text.setVisible(True)
        self.last = readout
        return readout

    @staticmethod
    def _nearest(box: pg.ViewBox, xs: np.ndarray, ys: np.ndarray, scene_pos: QPointF) -> tuple[int, float]:
        """Index of the point nearest in screen pixels (among finite ones) and its distance."""
        origin = box.mapSceneToView(scene_pos)
        (x0, x1), (y0, y1) = box.viewRange()
        rect = box.sceneBoundingRect()
        sx = rect.width() / (x1 - x0) if x1 > x0 else 1.0
        sy = rect.height() / (y1 - y0) if y1 > y0 else 1.0
        dx = (np.asarray(xs, float) - origin.x()) * sx
        dy = (np.asarray(ys, float) - origin.y()) * sy
        distance = np.hypot(dx, dy)
        distance[~np.isfinite(distance)] = np.inf
        if not distance.size or not np.isfinite(distance.min()):
            return -1, np.inf
        index = int(np.argmin(distance))
        return index, float(distance[index])

    def hide(self) -> None:
        """No readout."""
        self.dot.setVisible(False)
        self.text.setVisible(False)
        self.last = ""
