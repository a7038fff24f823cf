"""The window's choice of the model that denoises: the shipped checkpoint, one loaded or saved by the
user, a run's, and how results are labelled by it. The Train form is never touched by it.

A mixin of MainWindow (main_window.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtWidgets import QFileDialog, QTabWidget, QWidget

from denoise_gui.denoise.view import DenoiseView
from denoise_gui.settings import AppSettings
from denoise_gui.status_bar import StatusBar
from denoise_gui.train.view import TrainView
from denoise_gui.widgets.devices import describe_device
from denoise_gui.window_menus import DENOISE, TRAIN

USE_DEFAULT = "default"
APP_TITLE = "denoise-gui"


def shipped_checkpoint() -> Path | None:
    """nnkit.denoise.asset_paths.SHIPPED_CHECKPOINT, or None when the module is not there."""
    try:
        from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT
    except ImportError:
        return None
    return Path(SHIPPED_CHECKPOINT)


def inference_model(checkpoint: Any, build: Callable[[Any], Any]) -> Any:
    """The checkpoint's model on the best device ('auto'), float32, ready to denoise (worker thread)."""
    import torch

    from nnkit.denoise.device import resolve_device

    model = build(checkpoint)
    model.to(device=resolve_device("auto"), dtype=torch.float32)
    return model


class CheckpointsMixin:
    """Load, name and save the checkpoint that denoises; continue training from one."""

    checkpoint: Any
    checkpoint_path: str
    settings: AppSettings
    status: StatusBar
    tabs: QTabWidget
    train_view: TrainView
    denoise_view: DenoiseView

    if TYPE_CHECKING:  # provided by QMainWindow

        def setWindowTitle(self, title: str) -> None: ...

    def _load_initial_checkpoint(self, checkpoint: str | Path | None) -> None:
        """The shipped checkpoint, unless the command line named another: never a surprise from last time."""
        if checkpoint is None:
            self._show_model("none", "")
            return
        if checkpoint != USE_DEFAULT:
            self.load_checkpoint(checkpoint)
            return
        if not self.use_shipped_checkpoint():
            self._show_model("none (no shipped checkpoint)", "")
            self.status.show_message(
                "No shipped checkpoint found: train a run, or load a checkpoint (Ctrl+L) to denoise photos"
            )

    def use_shipped_checkpoint(self) -> bool:
        """Denoise with the checkpoint that comes with the app; False if it is not there."""
        shipped = shipped_checkpoint()
        return shipped is not None and shipped.is_file() and self.load_checkpoint(shipped)

    def _show_model(self, name: str, path: str) -> None:
        self.setWindowTitle(f"{APP_TITLE} — denoising with {name}" if path else f"{APP_TITLE} — no model")
        self.status.set_checkpoint(name, path)

    def load_checkpoint(self, path: str | Path, *, quiet: bool = False) -> bool:
        """Use a checkpoint for denoising (the Train form is never touched); False, with a message, on error."""
        path = Path(path)
        try:
            from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

            checkpoint = load_checkpoint(path)
        except Exception as exc:
            if not quiet:
                self.status.show_message(f"Could not load checkpoint {path}: {exc}")
                self.train_view.show_message(f"Could not load checkpoint {path}: {exc}", "error")
                self.denoise_view.show_message(f"Could not load checkpoint {path}: {exc}", error=True)
            return False
        self.checkpoint, self.checkpoint_path = checkpoint, str(path)
        config = checkpoint.config
        name = self.checkpoint_name(path, checkpoint)
        camera = " and on camera noise" if config.camera_mix > 0 else ""  # the blind Gaussian runs' camera share
        self.denoise_view.model_label.setToolTip(
            f"{path}\n{config.arch} {config.width}, trained on {config.noise} noise{camera}\n"
            f"denoises on {describe_device('auto')}")
        trained = None  # the Gaussian σ (or blind range of σ) the model learned, as the Denoise view shows it
        if config.noise == "gaussian":
            low, high = config.noise_range or (config.noise_level, config.noise_level)
            trained = f"{low:g}" if low == high else f"{low:g}–{high:g}"
            trained += camera
        self.denoise_view.set_model(name, lambda: inference_model(checkpoint, model_from_checkpoint), trained)
        self._show_model(name, str(path))
        self.settings.set_last_checkpoint(str(path))
        return True

    def checkpoint_name(self, path: Path, checkpoint: Any) -> str:
        """How results are labelled: by run for the runs library's checkpoints (``run 4 · epoch 4 · 27.63 dB``),
        "shipped model" for the one that comes with the app, else by file name."""
        best = getattr(checkpoint, "best_psnr", math.nan)
        parts = [f"epoch {checkpoint.epoch}"]
        if isinstance(best, float) and math.isfinite(best):
            parts.append(f"{best:.2f} dB")
        shipped = shipped_checkpoint()
        number = self.train_view.library.run_number_of(path)
        if shipped is not None and shipped.is_file() and path.resolve() == shipped.resolve():
            config = checkpoint.config
            return f"shipped model ({config.arch} {config.width}, {', '.join(parts)})"
        if number is not None:
            kept = " (best)" if path.name.endswith(".best.safetensors") else ""
            blind = ["blind-spot"] if checkpoint.config.target == "self" else []
            return " · ".join([f"run {number}{kept}", *blind, *parts])
        return " · ".join([path.name, *parts])

    def _self_trained(self, path: str, _name: str) -> None:
        """A "Train on these photos" run ended: use its model and denoise the open photos with it."""
        if self.load_checkpoint(path):
            self.denoise_view.redenoise_all()

    def load_checkpoint_dialog(self) -> None:
        """Choose a checkpoint file to denoise with."""
        start = str(Path(self.checkpoint_path).parent) if self.checkpoint_path else str(self.train_view.runs_dir)
        path = self.train_view.dialogs.open_path("Denoise with checkpoint", start, "Checkpoints (*.safetensors)")
        if path:
            self.load_checkpoint(path)

    def train_from_dialog(self) -> None:
        """Choose a checkpoint to continue training (its settings go into the form)."""
        start = str(Path(self.checkpoint_path).parent) if self.checkpoint_path else str(self.train_view.runs_dir)
        path = self.train_view.dialogs.open_path("Train from checkpoint", start, "Checkpoints (*.safetensors)")
        if path and self.train_view.train_from_path(path):
            self.tabs.setCurrentIndex(TRAIN)

    def denoise_with(self, path: str) -> bool:
        """Denoise with this checkpoint and show the Denoise view."""
        if not self.load_checkpoint(path):
            return False
        self.tabs.setCurrentIndex(DENOISE)
        return True

    def save_checkpoint_dialog(self) -> None:
        """Choose where to save the current or selected run's checkpoint."""
        default = str(Path.home() / "denoise-checkpoint.safetensors")
        path, _ = QFileDialog.getSaveFileName(
            cast(QWidget, self), "Save checkpoint", default, "Checkpoints (*.safetensors)"
        )
        if path:
            self.train_view.save_checkpoint(path)

    def use_run_for_denoising(self) -> bool:
        """Denoise with the selected (or last) run's checkpoint."""
        run = self.train_view.selected_run() or self.train_view.last_run_with_checkpoint()
        if run is None or not run.checkpoint:
            self.status.show_message("No run with a checkpoint yet")
            return False
        return self.denoise_with(run.checkpoint)
