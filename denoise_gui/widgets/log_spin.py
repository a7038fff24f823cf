"""LogSpinBox and LogValueEdit: a positive number edited on a log scale (learning rate, epsilon)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSlider, QVBoxLayout, QWidget

from denoise_gui.widgets.number_spin import NumberSpinBox

STEPS_PER_DECADE = 4  # arrow keys move by a factor 10**(1/4) ~ 1.78


class LogSpinBox(NumberSpinBox):
    """A spin box showing values like 1e-3 and stepping multiplicatively (parsing as NumberSpinBox)."""

    def __init__(self, minimum: float, maximum: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(20)
        self.setRange(minimum, maximum)

    def textFromValue(self, value: float) -> str:
        """Short scientific form: 0.001 -> '0.001', 1e-05 -> '1e-05'."""
        return f"{value:.4g}"

    def stepBy(self, steps: int) -> None:
        """Multiply by 10**(steps/4) instead of adding."""
        value = max(self.value(), self.minimum(), 1e-300)
        exponent = round(math.log10(value) * STEPS_PER_DECADE) + steps
        value = float(f"{10 ** (exponent / STEPS_PER_DECADE):.3g}")
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class LogValueEdit(QWidget):
    """A LogSpinBox with a log-scale slider under it, kept in step; emits sigValueChanged(float).

    The slider sits below the number, the editor's full width: beside it, in the form's narrow column, it
    was left ~20 px for 8 decades (issue 19). Below costs one short row, which the form has to spare."""

    sigValueChanged = Signal(float)
    TICKS_PER_DECADE = 10
    SLIDER_MIN_WIDTH = 80

    def __init__(self, minimum: float, maximum: float, value: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spin = LogSpinBox(minimum, maximum, self)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(self._tick(minimum), self._tick(maximum))
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the spin box is the keyboard control
        self.slider.setMinimumWidth(self.SLIDER_MIN_WIDTH)
        self.slider.setToolTip(f"{minimum:g} to {maximum:g}, a notch a tenth of a decade (the arrow keys in the "
                               "box step by a quarter of a decade)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.spin)
        layout.addWidget(self.slider)
        self.setFocusProxy(self.spin)
        self.spin.setValue(value)
        self.slider.setValue(self._tick(value))
        self.spin.valueChanged.connect(self._spin_changed)
        self.slider.valueChanged.connect(self._slider_changed)

    def _tick(self, value: float) -> int:
        return round(math.log10(value) * self.TICKS_PER_DECADE)

    def _spin_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(self._tick(max(value, self.spin.minimum())))
        self.slider.blockSignals(False)
        self.sigValueChanged.emit(value)

    def _slider_changed(self, tick: int) -> None:
        value = float(f"{10 ** (tick / self.TICKS_PER_DECADE):.3g}")
        self.spin.setValue(value)

    def value(self) -> float:
        """The current value."""
        return float(self.spin.value())

    def setValue(self, value: float) -> None:
        """Set the value (clamped to the range)."""
        self.spin.setValue(value)
