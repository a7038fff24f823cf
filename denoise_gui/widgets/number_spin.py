"""NumberSpinBox: a decimal spin box that writes its value plainly (0.9, 0.999, 0, 0.0001), never 0.90000."""

from __future__ import annotations

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

SIGNIFICANT = 6


class NumberSpinBox(QDoubleSpinBox):
    """Shows up to six significant digits without trailing zeros; accepts any number typed in range."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:
        """0.9 -> '0.9', 0.999 -> '0.999', 0.0 -> '0', 25.0 -> '25'."""
        return f"{value:.{SIGNIFICANT}g}"

    def valueFromText(self, text: str) -> float:
        """Parse what was typed."""
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """A number in range is acceptable; a number being typed is intermediate."""
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or stripped[-1] in "eE+-." or stripped.lower().endswith(("e-", "e+"))
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos
