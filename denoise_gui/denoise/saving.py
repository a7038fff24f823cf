"""The Denoise view's saving: a result as a new file like its original, never over it.

A mixin of DenoiseView (view.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from PySide6.QtWidgets import QFileDialog, QWidget

from denoise_gui.denoise.items import DenoiseItem, default_output_path
from nnkit.denoise.photo import read_photo, save_like, to_float


class SavingMixin:
    """Save the shown result of one photo (asking where, or beside it) or of all of them."""

    items: dict[str, DenoiseItem]

    if TYPE_CHECKING:  # provided by DenoiseView
        def show_message(self, text: str, error: bool = False) -> None: ...
        def current_path(self) -> str: ...

    def save_dialog(self) -> None:
        """Choose where to save the shown result (default '<name>.denoised.png', TIFF for a TIFF)."""
        path = self.current_path()
        item = self.items.get(path)
        if item is None or item.denoised is None:
            self.show_message("Nothing to save yet: the selected photo has no denoised result")
            return
        view = cast(QWidget, self)  # the DenoiseView this is part of
        target, _ = QFileDialog.getSaveFileName(view, "Save denoised photo", str(default_output_path(path)),
                                                "PNG (*.png);;TIFF (*.tif *.tiff);;JPEG (*.jpg *.jpeg);;WebP (*.webp)")
        if target:
            self.save_current(target)

    def save_current(self, target: str | Path | None = None) -> Path | None:
        """Save the selected photo's shown result to ``target`` (default beside it); never over the original."""
        return self.save_item(self.current_path(), target)

    def save_item(self, path: str, target: str | Path | None = None) -> Path | None:
        """Save one photo's shown result; returns where, or None with a message saying why not."""
        item = self.items.get(path)
        result = item.shown_result() if item is not None else None
        if item is None or result is None or not result.done:
            self.show_message("Nothing to save yet: that photo has no denoised result")
            return None
        out = Path(target) if target is not None else default_output_path(path)
        if out.resolve() == Path(path).resolve():
            self.show_message(f"Refusing to overwrite the original {out}; choose another name", error=True)
            return None
        try:
            # The original is read again for what must come back out: its bit depth, grey, alpha,
            # colour profile and EXIF. The result: a 16-bit or float photo's at its own precision
            # (``full``), an 8-bit photo's as shown (its 8-bit RGB, already upright).
            rgb = to_float(result.full) if result.full is not None else result.image.astype(np.float32) / 255
            written, notes = save_like(read_photo(path), rgb, out,
                                       overwrite=target is not None)  # a chosen target was confirmed in the dialog
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not save {out}: {exc}", error=True)
            return None
        result.saved_to = str(written)
        self.show_message(f"Saved {written} ({result.model})" + "".join(f"; {n}" for n in notes))
        return written

    def save_all(self) -> list[Path]:
        """Save every shown result not saved yet beside its original."""
        pending = [i.path for i in self.items.values() if i.denoised is not None and not i.saved_to]
        saved = [p for p in (self.save_item(path) for path in pending) if p is not None]
        self.show_message(f"Saved {len(saved)} photo(s)")
        return saved
