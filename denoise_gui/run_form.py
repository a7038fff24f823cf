"""RunForm: the form for a whole RunConfig, generated from its fields and validated by it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.devices import device_choices
from denoise_gui.log_spin import LogSpinBox, LogValueEdit
from nnkit.denoise.config import ConfigError, RunConfig

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Model", ("arch", "width", "init")),
    ("Optimiser", ("optimizer", "lr", "momentum", "nesterov", "beta1", "beta2", "eps", "weight_decay")),
    ("Training", ("epochs", "batch_size", "epoch_size", "crop_size", "loss", "target", "augment", "seed")),
    ("Noise", ("noise", "noise_level")),
    ("Data", ("data", "data_path", "dead_leaves_mix")),
    ("Compute", ("engine", "device", "dtype", "cuda_graph")),
)
LABELS = {
    "arch": "Architecture", "width": "Width", "init": "Initialisation", "optimizer": "Optimiser",
    "lr": "Learning rate", "momentum": "Momentum", "nesterov": "Nesterov", "beta1": "Beta 1",
    "beta2": "Beta 2", "eps": "Epsilon", "weight_decay": "Weight decay", "epochs": "Epochs",
    "batch_size": "Batch size", "epoch_size": "Crops per epoch", "crop_size": "Crop size",
    "loss": "Loss", "target": "Target", "augment": "Augment", "seed": "Seed", "noise": "Noise model",
    "noise_level": "Noise level", "data": "Data source", "data_path": "Folder", "engine": "Engine",
    "device": "Device", "dtype": "Precision", "cuda_graph": "CUDA graph",
}
LABELS["dead_leaves_mix"] = "Dead leaves share"
NOISE_LEVEL_LABELS = {"gaussian": "Sigma (0-255)", "poisson": "Photons at white", "impulse": "% pixels hit"}
DATA_PATH_LABELS = {"folder": "Image folder", "course": "Folder of .pkl"}
SGD_ONLY = ("momentum", "nesterov")
ADAM_ONLY = ("beta1", "beta2", "eps")
INT_RANGES = {"seed": (0, 2**31 - 1), "width": (0, 1024), "crop_size": (0, 1024)}
FLOAT_SPECS = {  # name: (minimum, maximum, decimals, step); ranges are loose: RunConfig validates
    "momentum": (0.0, 1.0, 4, 0.01),
    "beta1": (0.0, 1.0, 4, 0.01),
    "beta2": (0.0, 1.0, 5, 0.001),
    "weight_decay": (0.0, 1.0, 6, 1e-4),
    "noise_level": (0.0, 100000.0, 1, 1.0),
    "dead_leaves_mix": (0.0, 1.0, 2, 0.05),
}
ERROR_STYLE = "border: 1px solid #d62728;"
COURSE_FILES = ("train_data.pkl", "val_data.pkl")


def check_data_path(config: RunConfig) -> None:
    """ConfigError when the folder or course data the config names is not on disk."""
    if config.data in ("builtin", "deadleaves"):  # nothing on disk to check
        return
    folder = Path(config.data_path).expanduser()
    if not folder.is_dir():
        raise ConfigError("data_path", f"no folder at {config.data_path!r}")
    if config.data == "course":
        missing = [name for name in COURSE_FILES if not (folder / name).is_file()]
        if missing:
            raise ConfigError("data_path", f"{config.data_path!r} has no {' or '.join(missing)}")


class RunForm(QWidget):
    """Edits a RunConfig. Emits sigChanged(config or None) and shows why a value is invalid."""

    sigChanged = Signal(object)

    def __init__(self, config: RunConfig | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editors: dict[str, QWidget] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self._labels: dict[str, QLabel] = {}
        self._loading = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        covered = {name for _, names in GROUPS for name in names}
        extra = tuple(f.name for f in fields(RunConfig) if f.name not in covered)
        for title, names in (*GROUPS, ("Other", extra)):
            if names:
                layout.addWidget(self._group(title, names))
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d62728;")
        self.error_label.setObjectName("formError")
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.set_config(config or RunConfig())

    # -- building ----------------------------------------------------------------------------
    def _group(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in names:
            editor = self._editor(name)
            editor.setToolTip(RunConfig.field_help(name))
            label = QLabel(LABELS.get(name, name.replace("_", " ").capitalize()), box)
            label.setToolTip(RunConfig.field_help(name))
            label.setBuddy(editor)
            form.addRow(label, editor)
            self.editors[name] = editor
            self._rows[name] = (form, editor)
            self._labels[name] = label
        return box

    def _editor(self, name: str) -> QWidget:
        default = getattr(RunConfig(), name)
        choices = RunConfig.field_choices(name)
        editor: QWidget
        if name == "device":
            editor = QComboBox(self)
            editor.addItems(device_choices())
            editor.currentTextChanged.connect(self._changed)
        elif choices is not None:
            editor = QComboBox(self)
            editor.addItems(list(choices))
            editor.currentTextChanged.connect(self._changed)
        elif name == "lr":
            editor = LogValueEdit(1e-6, 100.0, default, self)
            editor.sigValueChanged.connect(self._changed)
        elif name == "eps":
            editor = LogSpinBox(1e-12, 1.0, self)
            editor.valueChanged.connect(self._changed)
        elif name == "data_path":
            editor = self._folder_editor()
        elif isinstance(default, bool):
            editor = QCheckBox(self)
            editor.toggled.connect(self._changed)
        elif isinstance(default, int):
            editor = QSpinBox(self)
            low, high = INT_RANGES.get(name, (0, 10_000_000))
            editor.setRange(low, high)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(self._changed)
        elif isinstance(default, float):
            editor = QDoubleSpinBox(self)
            low_f, high_f, decimals, step = FLOAT_SPECS.get(name, (0.0, 1e6, 6, 0.1))
            editor.setDecimals(decimals)
            editor.setRange(low_f, high_f)
            editor.setSingleStep(step)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(self._changed)
        else:
            editor = QLineEdit(self)
            editor.textChanged.connect(self._changed)
        editor.setObjectName(f"field_{name}")
        return editor

    def _folder_editor(self) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.data_path_edit = QLineEdit(box)
        self.data_path_edit.setPlaceholderText("choose a folder…")
        self.data_path_edit.textChanged.connect(self._changed)
        browse = QPushButton("Browse…", box)
        browse.clicked.connect(self._browse)
        row.addWidget(self.data_path_edit, 1)
        row.addWidget(browse)
        box.setFocusProxy(self.data_path_edit)
        return box

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Training data folder", self.data_path_edit.text())
        if folder:
            self.data_path_edit.setText(folder)

    # -- values ------------------------------------------------------------------------------
    def _read(self, name: str) -> Any:
        editor = self.editors[name]
        if name == "data_path":
            return self.data_path_edit.text()
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, LogValueEdit):
            return editor.value()
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox):
            return int(editor.value())
        if isinstance(editor, QDoubleSpinBox):
            return float(editor.value())
        if isinstance(editor, QLineEdit):
            return editor.text()
        raise TypeError(f"no reader for field {name!r}")

    def _write(self, name: str, value: Any) -> None:
        editor = self.editors[name]
        if name == "data_path":
            self.data_path_edit.setText(str(value))
        elif isinstance(editor, QComboBox):
            if editor.findText(str(value)) < 0:
                editor.addItem(str(value))
            editor.setCurrentText(str(value))
        elif isinstance(editor, (LogValueEdit, QSpinBox, QDoubleSpinBox)):
            editor.setValue(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QLineEdit):
            editor.setText(str(value))

    def values(self) -> dict[str, Any]:
        """The raw field values shown, valid or not."""
        return {f.name: self._read(f.name) for f in fields(RunConfig)}

    def config(self) -> RunConfig:
        """The RunConfig shown; raises ConfigError naming the field if a value is invalid
        (including a data folder that is not there, checked here rather than half-way into a run)."""
        config = RunConfig(**self.values())
        check_data_path(config)
        return config

    def try_config(self) -> tuple[RunConfig | None, str]:
        """(config, '') when valid, else (None, the reason)."""
        try:
            return self.config(), ""
        except ConfigError as exc:
            return None, self.describe_error(exc)

    def label_of(self, name: str) -> str:
        """The label the form shows for a field (e.g. 'Batch size' for batch_size)."""
        label = self._labels.get(name)
        return label.text() if label is not None else LABELS.get(name, name.replace("_", " ").capitalize())

    def describe_error(self, exc: ConfigError) -> str:
        """The error in the form's words: 'Batch size: must be at least 1, got 0' (labels, not field names)."""
        text = str(exc)
        prefix = f"{exc.field}: "
        text = text[len(prefix):] if text.startswith(prefix) else text
        for name in sorted(self.editors, key=len, reverse=True):
            text = re.sub(rf"\b{name}=", f"{self.label_of(name)} = ", text)
        return f"{self.label_of(exc.field)}: {text}"

    def set_config(self, config: RunConfig) -> None:
        """Show ``config`` in the form."""
        self._loading = True
        try:
            for f in fields(RunConfig):
                self._write(f.name, getattr(config, f.name))
        finally:
            self._loading = False
        self._changed()

    def set_value(self, name: str, value: Any) -> None:
        """Set one field's editor (used by tests and shortcuts)."""
        self._write(name, value)

    def is_valid(self) -> bool:
        """Whether the shown values make a valid RunConfig."""
        return self.try_config()[0] is not None

    # -- reacting ----------------------------------------------------------------------------
    def _changed(self, *_: object) -> None:
        if self._loading:
            return
        self._update_visibility(self.values())
        config: RunConfig | None = None
        bad = ""
        try:
            config = self.config()
            self.error_label.setText("")
        except ConfigError as exc:
            self.error_label.setText(f"Cannot start: {self.describe_error(exc)}")
            bad = exc.field
        for name, editor in self.editors.items():
            editor.setStyleSheet(ERROR_STYLE if name == bad else "")
        self.sigChanged.emit(config)

    def _update_visibility(self, values: dict[str, Any]) -> None:
        sgd = values["optimizer"] == "sgd"
        for name in SGD_ONLY:
            self._set_row_visible(name, sgd)
        for name in ADAM_ONLY:
            self._set_row_visible(name, not sgd)
        self._set_row_visible("data_path", values["data"] not in ("builtin", "deadleaves"))
        self._set_row_visible("dead_leaves_mix", values["data"] in ("builtin", "folder"))
        self._labels["noise_level"].setText(NOISE_LEVEL_LABELS.get(values["noise"], "Noise level"))
        self._labels["data_path"].setText(DATA_PATH_LABELS.get(values["data"], "Folder"))

    def _set_row_visible(self, name: str, visible: bool) -> None:
        if name in self._rows:
            form, editor = self._rows[name]
            form.setRowVisible(editor, visible)

    def row_visible(self, name: str) -> bool:
        """Whether the field's row is shown (depends on optimiser and data source)."""
        form, editor = self._rows[name]
        return bool(form.isRowVisible(editor))
