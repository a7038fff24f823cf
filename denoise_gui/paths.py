"""Where the app writes: a per-session folder of run checkpoints."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QStandardPaths


def app_data_dir() -> Path:
    """The platform's per-user data folder for this app."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location or Path.home() / ".denoise-gui")


def session_runs_dir(base: Path | None = None) -> Path:
    """A new folder for this session's checkpoints, e.g. <AppData>/runs/20260101-120000 (not created)."""
    root = (base or app_data_dir()) / "runs"
    return root / time.strftime("%Y%m%d-%H%M%S")
