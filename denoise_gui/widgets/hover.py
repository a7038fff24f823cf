"""HoverReadout: the run, x and value of the curve point nearest the mouse, shown beside it on a plot
(hidden again when the mouse leaves the plot)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF

HOVER_RADIUS_PX = 30
RATE_LIMIT_HZ = 30
# (run label, x and y as drawn, the text of point i)
Points = list[tuple[str, np.ndarray, np.ndarray, Callable[[int], str]]]


class HoverReadout(QObject):
    """A dot on the nearest point and a text label, for the curves ``points(plot)`` returns (in view
    coordinates, as drawn: log10 of the value on a log axis)."""

    def __init__(self, plot: pg.PlotWidget, points: Callable[[pg.PlotWidget], Points]) -> None:
        super().__init__(plot)
        self.plot = plot
        self.points = points
        self.text = pg.TextItem("", color="#f0f0f0", fill=pg.mkBrush(0, 0, 0, 190), anchor=(0, 1))
        self.dot = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#ffffff"), pen=pg.mkPen("#000000"))
        for item in (self.text, self.dot):
            item.setZValue(20)
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self.last = ""
        self.outside = False  # the mouse left the plot: a rate-limited move arriving late shows nothing
        self.proxy = pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=RATE_LIMIT_HZ, slot=self._moved)
        plot.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Hide the readout when the mouse leaves the plot."""
        if event.type() == QEvent.Type.Leave:
            self.outside = True
            self.hide()
        elif event.type() == QEvent.Type.Enter:
            self.outside = False
        return False

    def _moved(self, args: tuple[Any, ...]) -> None:
        if not self.outside:
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
