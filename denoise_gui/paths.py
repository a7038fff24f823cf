"""Where the app writes: the per-user runs library (QStandardPaths; tests pass their own folder)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths

DATA_DIR_ENV = "DENOISE_GUI_DATA"  # overrides the data folder (tests, portable use)


def app_data_dir() -> Path:
    """The platform's per-user data folder for this app (or $DENOISE_GUI_DATA)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".denoise-gui")


def runs_library_dir(base: Path | None = None) -> Path:
    """The runs library: <AppData>/runs, one folder per run (created when the first run starts)."""
    return (base or app_data_dir()) / "runs"
