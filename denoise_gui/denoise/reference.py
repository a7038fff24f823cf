"""The Denoise view's clean reference: PSNR and SSIM of a photo and its results, measured on a worker.

A mixin of DenoiseView (view.py); the engine computes the scores (measure_worker.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from denoise_gui.denoise.items import DenoiseItem, image_suffixes
from denoise_gui.denoise.measure_worker import MeasureJob, MeasureWorker


def describe_quality(quality: Any) -> str:
    """'31.24 dB · SSIM 0.912'."""
    return f"{quality.psnr_db:.2f} dB · SSIM {quality.ssim:.3f}"


class ReferenceMixin:
    """Point a photo at its clean version; measure it and each result against it."""

    read_fn: Callable[[str], np.ndarray] | None
    items: dict[str, DenoiseItem]
    measuring: list[MeasureJob]
    quality_label: QLabel

    if TYPE_CHECKING:  # provided by DenoiseView and its other parts
        sigMeasured: SignalInstance

        def show_message(self, text: str, error: bool = False) -> None: ...
        def current_path(self) -> str: ...
        def _prune_ended(self) -> None: ...

    def reference_dialog(self) -> None:
        """Choose a clean reference for the selected photo."""
        item = self.items.get(self.current_path())
        if item is None:
            self.show_message("Open a photo first, then point at its clean reference")
            return
        patterns = " ".join(f"*{s}" for s in image_suffixes())
        view = cast(QWidget, self)  # the DenoiseView this is part of
        path, _ = QFileDialog.getOpenFileName(view, f"Clean reference for {item.name}", str(Path(item.path).parent),
                                              f"Images ({patterns});;All files (*)")
        if path:
            self.set_reference(item.path, path)

    def set_reference(self, path: str, reference: str) -> bool:
        """Measure the photo and each of its results against ``reference`` (a clean image of the same size)."""
        item = self.items.get(path)
        if item is None or item.original is None:
            self.show_message("That photo is not loaded yet", error=True)
            return False
        item.reference = reference
        images: dict[Any, np.ndarray] = {"original": item.original}
        images.update({i: r.image for i, r in enumerate(item.results) if r.done})
        self._measure(item, images, reference)
        self.quality_label.setText(f"Measuring against {Path(reference).name}…")
        return True

    def _measure(self, item: DenoiseItem, images: dict[Any, np.ndarray], reference: str | None = None) -> None:
        worker = MeasureWorker(item.path, reference or item.reference, images, read=self.read_fn)
        job = MeasureJob(worker, cast(QWidget, self))
        job.sigMeasured.connect(self._on_measured)
        job.sigFailed.connect(self._on_measure_failed)
        job.qthread.finished.connect(self._prune_ended)
        self.measuring.append(job)
        job.start()

    def _on_measured(self, path: str, _reference: np.ndarray, scores: dict[Any, Any]) -> None:
        item = self.items.get(path)
        if item is None:
            return
        for key, quality in scores.items():
            if key == "original":
                item.original_quality = quality
            elif isinstance(key, int) and key < len(item.results):
                item.results[key].quality = quality
        if self.current_path() == path:
            self._show_quality(item)
        self._prune_ended()
        self.sigMeasured.emit(path)

    def _on_measure_failed(self, path: str, message: str) -> None:
        item = self.items.get(path)
        if item is not None:
            item.reference = ""
        self.quality_label.setText("")
        self._prune_ended()
        self.show_message(f"Could not measure against the reference: {message}", error=True)

    def _show_quality(self, item: DenoiseItem) -> None:
        if not item.reference or item.original_quality is None:
            self.quality_label.setText("")
            return
        result = item.shown_result()
        parts = [f"vs {Path(item.reference).name}:"]
        if result is not None and result.quality is not None:
            parts.append(f"result {describe_quality(result.quality)}")
        parts.append(f"original {describe_quality(item.original_quality)}")
        self.quality_label.setText("  ".join(parts))

