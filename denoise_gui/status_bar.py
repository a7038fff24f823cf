"""StatusBar: transient messages on the left, the device and the checkpoint always on the right."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget


class StatusBar(QStatusBar):
    """Shows which device trains and which checkpoint denoises."""

    MESSAGE_MS = 8000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device_label = QLabel("Device: –", self)
        self.device_label.setObjectName("statusDevice")
        self.checkpoint_label = QLabel("Checkpoint: none", self)
        self.checkpoint_label.setObjectName("statusCheckpoint")
        self.addPermanentWidget(self.device_label)
        self.addPermanentWidget(self.checkpoint_label)

    def set_device(self, text: str) -> None:
        """e.g. 'CPU' or 'cuda:0 (NVIDIA H100)'."""
        self.device_label.setText(f"Device: {text}")

    def set_checkpoint(self, text: str, tooltip: str = "") -> None:
        """The checkpoint in use (or why there is none)."""
        self.checkpoint_label.setText(f"Checkpoint: {text}")
        self.checkpoint_label.setToolTip(tooltip or text)

    def show_message(self, text: str) -> None:
        """A message that fades after a few seconds."""
        self.showMessage(text, self.MESSAGE_MS)
