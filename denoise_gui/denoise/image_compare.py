"""ImageCompare: original and result side by side, or split by a slider, or their difference; shared zoom.

Modes: "side" (two canvases that zoom and pan together), "split" (one canvas, original left of
a line the user drags, result right of it) and "difference" (what denoising changed, mid-grey
where nothing did; the engine computes it). Zoom controls: Fit, 1:1, − and +, and the zoom level
in words; keys + − 0 1 and the arrows work on the focused image, the wheel zooms at the cursor,
a double-click fits (or shows 1:1 where clicked).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from denoise_gui.denoise.zoom_canvas import ZOOM_STEP, ViewState, ZoomCanvas

MODES = (("side", "Side by side", "Original and result next to each other, zoomed together"),
         ("split", "Split", "One image: the original left of the line, the result right; drag the line"),
         ("difference", "Difference", "What denoising changed (×4), mid-grey where nothing did"))


class ImageCompare(QWidget):
    """The comparison area of the Denoise view. Emits sigModeChanged(mode)."""

    sigModeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = ViewState(self)
        self.left_canvas = ZoomCanvas(self.state, self)
        self.right_canvas = ZoomCanvas(self.state, self)
        self.left_canvas.setObjectName("compareLeft")
        self.right_canvas.setObjectName("compareRight")
        self.original: np.ndarray | None = None
        self.result: np.ndarray | None = None
        self.difference: np.ndarray | None = None
        self.result_caption = "denoised"
        self.message = ""
        self.mode = "side"

        self.mode_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for name, text, tip in MODES:
            button = QPushButton(text, self)
            button.setCheckable(True)
            button.setToolTip(tip)
            button.setObjectName(f"mode_{name}")
            group.addButton(button)
            button.clicked.connect(lambda _checked=False, n=name: self.set_mode(n))
            controls.addWidget(button)
            self.mode_buttons[name] = button
        self.mode_buttons["side"].setChecked(True)
        controls.addStretch(1)
        self.zoom_label = QLabel("", self)
        self.zoom_label.setObjectName("zoomLevel")
        self.zoom_label.setMinimumWidth(90)
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.setToolTip("Show the whole image (0, or double-click)")
        self.actual_button = QPushButton("1:1", self)
        self.actual_button.setToolTip("One image pixel per screen pixel (1)")
        self.out_button = QPushButton("−", self)
        self.out_button.setToolTip("Zoom out (-, or the mouse wheel)")
        self.in_button = QPushButton("+", self)
        self.in_button.setToolTip("Zoom in (+, or the mouse wheel)")
        for button in (self.fit_button, self.actual_button, self.out_button, self.in_button):
            button.setAutoDefault(False)
        for button in (self.out_button, self.in_button):
            button.setFixedWidth(32)
        self.fit_button.clicked.connect(self.fit)
        self.actual_button.clicked.connect(self.actual_size)
        self.out_button.clicked.connect(lambda: self.zoom_by(1 / ZOOM_STEP))
        self.in_button.clicked.connect(lambda: self.zoom_by(ZOOM_STEP))
        controls.addWidget(self.zoom_label)
        for button in (self.fit_button, self.actual_button, self.out_button, self.in_button):
            controls.addWidget(button)

        canvases = QHBoxLayout()
        canvases.setContentsMargins(0, 0, 0, 0)
        canvases.setSpacing(4)
        canvases.addWidget(self.left_canvas, 1)
        canvases.addWidget(self.right_canvas, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(controls)
        layout.addLayout(canvases, 1)
        self.state.sigChanged.connect(self._update_zoom_label)
        self._refresh()

    # -- content ---------------------------------------------------------------------------
    def set_images(self, original: np.ndarray | None, result: np.ndarray | None,
                   difference: np.ndarray | None = None, *, caption: str = "denoised", message: str = "") -> None:
        """Show a photo and one of its results (either may be None); fits when the photo's size changes."""
        previous = None if self.original is None else self.original.shape
        self.original, self.result, self.difference = original, result, difference
        self.result_caption, self.message = caption, message
        if original is None or previous != original.shape:
            self.state.fit = True
        self._refresh()

    def refresh_result(self) -> None:
        """The result array is being filled in place: repaint it."""
        self.left_canvas.repaint_image()
        self.right_canvas.repaint_image()

    def set_message(self, text: str) -> None:
        """A note over the result (progress, a failure)."""
        self.message = text
        self._refresh()

    def set_mode(self, mode: str) -> None:
        """'side', 'split' or 'difference'."""
        if mode not in self.mode_buttons:
            raise ValueError(f"unknown compare mode {mode!r}")
        self.mode = mode
        self.mode_buttons[mode].setChecked(True)
        self._refresh()
        self.sigModeChanged.emit(mode)

    def _refresh(self) -> None:
        left, right = self.left_canvas, self.right_canvas
        right.setVisible(self.mode == "side")
        left.split = self.mode == "split"
        right.split = False
        if self.mode == "side":
            left.caption_left, right.caption_left = "original", self.result_caption
            left.set_images(self.original)
            right.set_images(self.result if self.result is not None else None)
            left.set_message("" if self.original is not None else self.message)
            right.set_message(self.message if self.original is not None else "")
        elif self.mode == "split":
            left.caption_left, left.caption_right = "original", self.result_caption
            left.set_images(self.original, self.result)
            left.set_message(self.message)
        else:
            name = self.result_caption.removeprefix("denoised: ")
            left.caption_left = f"difference ×4: {name} − original" if self.difference is not None else ""
            left.set_images(self.difference if self.difference is not None else self.original)
            note = self.message or ("" if self.difference is not None else "No difference yet: the photo has no result")
            left.set_message(note if self.original is not None or self.message else "")
        self._update_zoom_label()

    # -- zoom ------------------------------------------------------------------------------
    def fit(self) -> None:
        """Show the whole image."""
        self.left_canvas.fit()

    def actual_size(self) -> None:
        """1:1 pixels."""
        self.left_canvas.actual_size()

    def zoom_by(self, factor: float) -> None:
        """Zoom around the centre."""
        self.left_canvas.zoom_by(factor)

    def zoom_text(self) -> str:
        """'Zoom 23% (fit)' or 'Zoom 100%'."""
        if self.original is None:
            return ""
        percent = self.state.scale * 100
        shown = f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"
        return f"Zoom {shown}" + (" (fit)" if self.state.fit else "")

    def _update_zoom_label(self) -> None:
        self.zoom_label.setText(self.zoom_text())
