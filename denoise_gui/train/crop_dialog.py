"""CropDialog: one validation crop enlarged, noisy | denoised | clean, with its PSNR; step through the crops."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from denoise_gui.widgets.image_tile import ImageTile
from nnkit.denoise.events import Preview

ENLARGED_PX = 288


class CropDialog(QDialog):
    """Shows crop ``index`` of a Preview at a size where the pixels can be seen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Before / after, enlarged")
        self.preview: Preview | None = None
        self.index = 0
        self.title = QLabel("", self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tiles = [ImageTile(self) for _ in range(3)]
        row = QHBoxLayout()
        for tile in self.tiles:
            tile.setMinimumSize(ENLARGED_PX, ENLARGED_PX + ImageTile.CAPTION_HEIGHT)
            row.addWidget(tile)
        self.previous_button = QPushButton("◀ Previous", self)
        self.next_button = QPushButton("Next ▶", self)
        self.previous_button.clicked.connect(lambda: self.show_crop(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_crop(self.index + 1))
        buttons = QHBoxLayout()
        buttons.addWidget(self.previous_button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row, 1)
        layout.addLayout(buttons)

    def set_preview(self, preview: Preview, index: int | None = None) -> None:
        """Show this epoch's crops (keeping the crop shown unless ``index`` is given)."""
        self.preview = preview
        self.show_crop(self.index if index is None else index)

    def show_crop(self, index: int) -> None:
        """Show crop ``index`` (wraps around)."""
        if self.preview is None or not len(self.preview.noisy):
            return
        count = len(self.preview.noisy)
        self.index = index % count
        psnr = self.preview.psnr[self.index] if self.index < len(self.preview.psnr) else math.nan
        result = f"denoised, {psnr:.2f} dB" if math.isfinite(psnr) else "denoised"
        for tile, image, caption in zip(self.tiles, (self.preview.noisy, self.preview.denoised, self.preview.clean),
                                        ("noisy", result, "clean"), strict=True):
            tile.set_image(image[self.index], caption)
        self.title.setText(f"Crop {self.index + 1} of {count}, epoch {self.preview.epoch}")
