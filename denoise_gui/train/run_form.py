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
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.train.form_rules import why_not
from denoise_gui.widgets.devices import device_choices
from denoise_gui.widgets.log_spin import LogSpinBox, LogValueEdit
from denoise_gui.widgets.number_spin import NumberSpinBox
from nnkit.denoise.config import ConfigError, RunConfig

# Two columns of groups, so that the whole form fits a 1280×720 window without scrolling. Names that
# RunConfig does not have are skipped; fields no group names land in "Other" with a widget by type.
COLUMNS: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = (
    (
        ("Model", ("arch", "width", "init")),
        ("Optimiser", ("optimizer", "lr", "momentum", "nesterov", "beta1", "beta2", "eps", "weight_decay")),
        ("Target", ("target", "mask_fraction", "mask_fill", "clean_path")),
        ("Compute", ("engine", "device", "dtype", "cuda_graph", "inspect_every", "lockstep")),
    ),
    (
        ("Training", ("init_from", "epochs", "batch_size", "epoch_size", "crop_size", "loss", "augment", "seed")),
        ("Schedule", ("lr_schedule", "warmup_epochs", "lr_min", "lr_step_epochs", "lr_step_gamma")),
        ("Noise", ("noise", "noise_level", "noise_level_max", "level_draw", "camera_mix")),
        ("Data", ("data", "data_path", "dead_leaves_mix", "score_photos")),
    ),
)
GROUPS = tuple(group for column in COLUMNS for group in column)
LABELS = {
    "arch": "Architecture", "width": "Width", "init": "Initialisation", "optimizer": "Optimiser",
    "lr": "Learning rate", "momentum": "Momentum", "nesterov": "Nesterov", "beta1": "Beta 1",
    "beta2": "Beta 2", "eps": "Epsilon", "weight_decay": "Weight decay", "epochs": "Epochs",
    "batch_size": "Batch size", "epoch_size": "Crops per epoch", "crop_size": "Crop size",
    "loss": "Loss", "target": "Target", "augment": "Augment", "seed": "Seed", "noise": "Noise model",
    "noise_level": "Noise level", "data": "Data source", "data_path": "Folder", "engine": "Engine",
    "device": "Device", "dtype": "Precision", "cuda_graph": "CUDA graph", "mask_fraction": "Masked fraction",
    "mask_fill": "Mask fill", "clean_path": "Clean images", "inspect_every": "Layer stats every",
    "lockstep": "Lockstep twin", "init_from": "Start from", "lr_schedule": "Schedule",
    "warmup_epochs": "Warm-up epochs", "lr_min": "Final rate", "lr_step_epochs": "Step every",
    "lr_step_gamma": "Step factor",
    "noise_level_max": "Level max", "score_photos": "Score photos",
}
LABELS["dead_leaves_mix"] = "Dead leaves share"
LABELS["level_draw"] = "Level draw"
LABELS["camera_mix"] = "Camera noise share"
NOISE_LEVEL_LABELS = {"gaussian": "Sigma (0-255)", "poisson": "Photons at white", "impulse": "% pixels hit"}
DATA_PATH_LABELS = {"folder": "Image folder", "course": "Folder of .pkl"}
INT_RANGES = {"seed": (0, 2**31 - 1), "width": (0, 1024), "crop_size": (0, 1024)}
FLOAT_SPECS = {  # name: (minimum, maximum, step); ranges are loose: RunConfig validates
    "momentum": (0.0, 1.0, 0.01),
    "beta1": (0.0, 1.0, 0.01),
    "beta2": (0.0, 1.0, 0.001),
    "weight_decay": (0.0, 1.0, 1e-4),
    "noise_level": (0.0, 100000.0, 1.0),
    "mask_fraction": (0.0, 1.0, 0.01),
    "dead_leaves_mix": (0.0, 1.0, 0.05),
    "camera_mix": (0.0, 1.0, 0.05),
}
EDITOR_MIN_WIDTH = 88
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
        self.path_edits: dict[str, QLineEdit] = {}
        self._rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self._labels: dict[str, QLabel] = {}
        self._loading = False
        known = [f.name for f in fields(RunConfig)]
        covered = {name for _, names in GROUPS for name in names}
        extra = tuple(name for name in known if name not in covered)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        for column, groups in enumerate(COLUMNS):
            box = QVBoxLayout()
            box.setSpacing(2)
            for title, names in (*groups, *((("Other", extra),) if column == len(COLUMNS) - 1 else ())):
                present = tuple(name for name in names if name in known)
                if present:
                    box.addWidget(self._group(title, present))
            box.addStretch(1)
            grid.addLayout(box, 0, column)
        self.data_path_edit = self.path_edits["data_path"]
        widest = max(label.sizeHint().width() for label in self._labels.values())
        for label in self._labels.values():  # every group's fields start at the same x
            label.setMinimumWidth(widest)
        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d62728;")
        self.error_label.setObjectName("formError")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.set_config(config or RunConfig())

    # -- building ----------------------------------------------------------------------------
    def _group(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setContentsMargins(6, 0, 6, 2)
        form.setVerticalSpacing(1)
        form.setHorizontalSpacing(6)
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
        elif name.endswith("_path"):
            editor = self._path_editor(name)
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
            editor = NumberSpinBox(self)
            low_f, high_f, step = FLOAT_SPECS.get(name, (0.0, 1e6, 0.1))
            editor.setRange(low_f, high_f)
            editor.setSingleStep(step)
            editor.valueChanged.connect(self._changed)
        else:
            editor = QLineEdit(self)
            editor.textChanged.connect(self._changed)
        editor.setObjectName(f"field_{name}")
        editor.setMinimumWidth(EDITOR_MIN_WIDTH)  # below the widgets' own hints: two columns fit beside the plots
        if isinstance(editor, QComboBox):
            editor.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            editor.setMinimumContentsLength(6)
        return editor

    def _path_editor(self, name: str) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit(box)
        edit.setPlaceholderText("choose a folder…")
        edit.textChanged.connect(self._changed)
        browse = QPushButton("…", box)
        browse.setFixedWidth(28)
        browse.setToolTip("Choose a folder")
        browse.clicked.connect(lambda _checked=False, n=name: self._browse(n))
        row.addWidget(edit, 1)
        row.addWidget(browse)
        box.setFocusProxy(edit)
        self.path_edits[name] = edit
        return box

    def _browse(self, name: str) -> None:
        edit = self.path_edits[name]
        folder = QFileDialog.getExistingDirectory(self, self.label_of(name), edit.text())
        if folder:
            edit.setText(folder)

    # -- values ------------------------------------------------------------------------------
    def _read(self, name: str) -> Any:
        editor = self.editors[name]
        if name in self.path_edits:
            return self.path_edits[name].text()
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
        if name in self.path_edits:
            self.path_edits[name].setText(str(value))
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
        """Fields that do not apply are disabled (never hidden: the form keeps its shape), saying why."""
        for name, editor in self.editors.items():
            reason = why_not(name, values)
            help_text = RunConfig.field_help(name)
            editor.setEnabled(not reason)
            tip = f"{help_text}\n\nDisabled: {reason}" if reason else help_text
            editor.setToolTip(tip)
            self._labels[name].setToolTip(tip)
            self._labels[name].setEnabled(not reason)
        self._labels["noise_level"].setText(NOISE_LEVEL_LABELS.get(values["noise"], "Noise level"))
        self._labels["data_path"].setText(DATA_PATH_LABELS.get(values["data"], "Folder"))

    def applies(self, name: str) -> bool:
        """Whether the field applies (its editor enabled) for the values shown, on this machine."""
        return not why_not(name, self.values())

    def row_visible(self, name: str) -> bool:
        """Whether the field's row is shown (always: fields that do not apply are disabled instead)."""
        form, editor = self._rows[name]
        return bool(form.isRowVisible(editor))
