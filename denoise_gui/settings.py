"""AppSettings: what the app remembers between launches, on top of an injectable QSettings."""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from nnkit.denoise.config import ConfigError, RunConfig

ORGANISATION = "nnkit"
APPLICATION = "denoise-gui"


class AppSettings:
    """Last configuration (RunConfig JSON), window geometry/state and last checkpoint."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.qsettings = qsettings if qsettings is not None else QSettings(ORGANISATION, APPLICATION)

    def last_config(self) -> RunConfig:
        """The configuration used last time, or the defaults if none or unreadable."""
        text = self.qsettings.value("run/config", "")
        if not text:
            return RunConfig()
        try:
            return RunConfig.from_dict(json.loads(str(text)))
        except (ValueError, TypeError, ConfigError):
            return RunConfig()

    def set_last_config(self, config: RunConfig) -> None:
        """Remember ``config`` as JSON."""
        self.qsettings.setValue("run/config", json.dumps(config.to_dict()))

    def geometry(self) -> QByteArray | None:
        """Saved window geometry, if any."""
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        """Saved dock/toolbar state, if any."""
        value = self.qsettings.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember window geometry and state."""
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)

    def last_checkpoint(self) -> str:
        """Path of the checkpoint loaded last time ('' if none)."""
        return str(self.qsettings.value("model/checkpoint", "") or "")

    def set_last_checkpoint(self, path: str) -> None:
        """Remember the loaded checkpoint."""
        self.qsettings.setValue("model/checkpoint", path)

    def current_view(self) -> int:
        """Index of the view shown last time."""
        try:
            return int(str(self.qsettings.value("window/view", 0)))
        except (TypeError, ValueError):
            return 0

    def set_current_view(self, index: int) -> None:
        """Remember the view shown."""
        self.qsettings.setValue("window/view", index)

    def sync(self) -> None:
        """Write to disk now."""
        self.qsettings.sync()
