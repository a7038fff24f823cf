"""GUI test fixtures: a temporary settings file, a tiny checkpoint, a window factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from denoise_gui.main_window import MainWindow
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig

# Small enough for a CPU test: a couple of seconds per epoch.
TINY = RunConfig(arch="report", width=4, epochs=2, epoch_size=32, crop_size=16, batch_size=8, device="cpu")


@pytest.fixture
def settings(tmp_path: Path) -> AppSettings:
    """Settings in a temporary ini file, so tests never share or pollute the user's."""
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A checkpoint of an untrained width-4 report net (fast to denoise with)."""
    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.models import build_model

    config = RunConfig(arch="report", width=4, device="cpu")
    model = build_model(config)
    return save_checkpoint(
        tmp_path / "tiny.safetensors", weights=model.state_dict(), optimizer_state=None, config=config,
        epoch=3, step=12, best_psnr=21.5,
    )


@pytest.fixture
def make_window(qtbot: Any, settings: AppSettings, tmp_path: Path) -> Callable[..., MainWindow]:
    """Build a MainWindow with temporary settings and runs folder (closed at teardown)."""

    def make(**kwargs: Any) -> MainWindow:
        kwargs.setdefault("checkpoint", None)
        kwargs.setdefault("runs_dir", tmp_path / "runs")
        window = MainWindow(settings, **kwargs)
        qtbot.addWidget(window)
        window.show()
        return window

    return make


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small PNG photo."""
    from nnkit.denoise.imageio import write_image

    rng = np.random.default_rng(0)
    image = (np.linspace(0, 255, 48)[None, :, None] * np.ones((40, 48, 3)) + rng.normal(0, 20, (40, 48, 3)))
    return write_image(tmp_path / "photo.png", np.clip(image, 0, 255).astype(np.uint8))
