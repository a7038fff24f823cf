"""PySide6 6.12 on Python 3.11 loses references to None/True (see denoise_gui/pyside_fix.py)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pyqtgraph as pg

import denoise_gui  # noqa: F401  (applies the guard)
from denoise_gui.pyside_fix import protect_singletons


def test_singletons_cannot_run_out() -> None:
    if sys.version_info < (3, 12):
        assert protect_singletons()
        assert min(sys.getrefcount(x) for x in (None, True, False, 0, ())) > 1 << 39


def test_many_curve_updates_do_not_exhaust_true(qtbot: Any) -> None:
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.show()
    curve = widget.plot()
    x = np.arange(50.0)
    for i in range(1500):  # without the guard True (refcount ~600, -2 per setData) was freed
        curve.setData(x, np.sin(x + i))
    widget.repaint()
