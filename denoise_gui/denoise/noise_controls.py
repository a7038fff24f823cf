"""NoiseControls: the photo's estimated noise level and the denoising strength, in the Denoise view.

Both come from the engine (quality work in nnkit.denoise): ``sigma_estimate.estimate_sigma`` runs on
the denoise worker, and ``denoise_array(strength=…)`` blends the model's output with the input
(1: the output, 0: the input). When the engine in use has neither, the controls say so and stay off.
"""

from __future__ import annotations

import importlib.util
import inspect
import math
from functools import cache

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget


@cache
def engine_estimates_sigma() -> bool:
    """Whether nnkit.denoise can estimate a photo's noise level."""
    return importlib.util.find_spec("nnkit.denoise.sigma_estimate") is not None


@cache
def engine_has_strength() -> bool:
    """Whether nnkit.denoise's tiled inference takes a strength."""
    from nnkit.denoise.inference import denoise_array

    return "strength" in inspect.signature(denoise_array).parameters


class NoiseControls(QWidget):
    """'Noise σ ≈ 24.8 (model trained at 25)' and a Strength slider. Emits sigStrengthChanged(strength)."""

    sigStrengthChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sigma_label = QLabel("", self)
        self.sigma_label.setObjectName("noiseEstimate")
        self.sigma_label.setToolTip("The photo's Gaussian noise level estimated from its finest details "
                                    "(0-255 units); a model does best near the level it was trained at")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("denoiseStrength")
        self.slider.setRange(0, 100)
        self.slider.setValue(100)
        self.slider.setFixedWidth(110)
        self.slider.setToolTip("How much of the model's output to keep: 100% the output, 0% the photo as it was")
        self.value_label = QLabel("100%", self)
        self.value_label.setMinimumWidth(34)
        self.slider.valueChanged.connect(lambda value: self.value_label.setText(f"{value}%"))
        self.slider.sliderReleased.connect(self._released)
        self.slider.valueChanged.connect(self._value_changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sigma_label)
        layout.addSpacing(8)
        self.strength_caption = QLabel("Strength:", self)
        layout.addWidget(self.strength_caption)
        layout.addWidget(self.slider)
        layout.addWidget(self.value_label)
        if not engine_has_strength():
            for widget in (self.strength_caption, self.slider, self.value_label):
                widget.setEnabled(False)
            self.slider.setToolTip("This engine has no strength control")
        self.set_sigma(math.nan)

    def strength(self) -> float:
        """The chosen strength in [0, 1]."""
        return self.slider.value() / 100

    def set_strength(self, strength: float) -> None:
        """Set the slider (emits sigStrengthChanged when it moves)."""
        self.slider.setValue(round(min(max(strength, 0.0), 1.0) * 100))

    def _released(self) -> None:
        self.sigStrengthChanged.emit(self.strength())

    def _value_changed(self, _value: int) -> None:
        if not self.slider.isSliderDown():  # keys, wheel, clicks on the groove, code
            self.sigStrengthChanged.emit(self.strength())

    def set_sigma(self, sigma: float, trained_at: str | None = None) -> None:
        """Show the estimate (nan: none yet) and the level (or range, '0–50') the model was trained at, if known."""
        if not engine_estimates_sigma():
            self.sigma_label.setText("")
            return
        if not math.isfinite(sigma):
            self.sigma_label.setText("Noise σ: –")
            return
        trained = f" (model trained at {trained_at})" if trained_at is not None else ""
        self.sigma_label.setText(f"Noise σ ≈ {sigma:.1f}{trained}")
