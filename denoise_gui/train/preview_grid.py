"""PreviewGrid: fixed validation crops as noisy | denoised | clean rows, PSNR under each denoised one.

Click a crop to see it enlarged (crop_dialog.CropDialog), with every other crop a click away.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from denoise_gui.train.crop_dialog import CropDialog
from denoise_gui.widgets.image_tile import ImageTile
from nnkit.denoise.events import Preview

ROWS = ("noisy", "denoised", "clean")


class PreviewGrid(QWidget):
    """Three rows of tiles, refreshed by each Preview event."""

    MAX_COLUMNS = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.title = QLabel("Before / after: appears after the first epoch (click a crop to enlarge it)", self)
        self.title.setWordWrap(True)
        self.setMinimumWidth(200)  # with the form and the run table: a window that fits 1366 px at 150%
        self.grid.addWidget(self.title, 0, 0, 1, self.MAX_COLUMNS + 1)
        self.row_labels: list[QLabel] = []
        for row, name in enumerate(ROWS, start=1):
            label = QLabel(name, self)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(label, row, 0)
            self.row_labels.append(label)
        self.tiles: list[list[ImageTile]] = [[] for _ in ROWS]
        self.epoch = 0
        self.noisy_psnr = math.nan
        self.preview: Preview | None = None
        self.dialog: CropDialog | None = None

    def set_noisy_psnr(self, value: float) -> None:
        """The noisy inputs' mean PSNR (from Started), shown on the 'noisy' row."""
        self.noisy_psnr = value
        self.row_labels[0].setText(f"noisy\n{value:.2f} dB" if math.isfinite(value) else "noisy")

    def _ensure_columns(self, count: int) -> None:
        for row, tiles in enumerate(self.tiles, start=1):
            while len(tiles) < count:
                tile = ImageTile(self)
                tile.setCursor(Qt.CursorShape.PointingHandCursor)
                column = len(tiles)
                tile.sigClicked.connect(lambda column=column: self.enlarge(column))
                self.grid.addWidget(tile, row, len(tiles) + 1)
                tiles.append(tile)
            for index, tile in enumerate(tiles):
                tile.setVisible(index < count)

    def show_preview(self, preview: Preview) -> None:
        """Show the epoch's crops."""
        count = min(len(preview.noisy), self.MAX_COLUMNS)
        self._ensure_columns(count)
        self.epoch = preview.epoch
        self.preview = preview
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.set_preview(preview)
        for index in range(count):
            psnr = preview.psnr[index] if index < len(preview.psnr) else math.nan
            caption = f"{psnr:.2f} dB" if math.isfinite(psnr) else ""
            self.tiles[0][index].set_image(preview.noisy[index])
            self.tiles[1][index].set_image(preview.denoised[index], caption)
            self.tiles[2][index].set_image(preview.clean[index])
        mean = sum(preview.psnr) / len(preview.psnr) if preview.psnr else math.nan
        mean_text = f", mean {mean:.2f} dB" if math.isfinite(mean) else ""
        self.title.setText(f"Before / after, epoch {preview.epoch}{mean_text} — click a crop to enlarge it")
        self.row_labels[1].setText(f"denoised\n{mean:.2f} dB" if math.isfinite(mean) else "denoised")

    def enlarge(self, index: int) -> CropDialog | None:
        """Open (or update) the enlarged view of crop ``index``."""
        if self.preview is None:
            return None
        if self.dialog is None:
            self.dialog = CropDialog(self)
        self.dialog.set_preview(self.preview, index)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def captions(self) -> list[str]:
        """Captions of the denoised row (for tests)."""
        return [tile.caption for tile in self.tiles[1] if tile.isVisibleTo(self)]
