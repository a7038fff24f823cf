"""InspectView: look inside a running network: per-layer curves, histograms, gradient check, lockstep, shapes.

Fed by the training worker's LayerStats and Lockstep events (every number computed on the worker
thread: this view only draws). The gradient check runs nnkit.gradcheck.check_model in its own
worker on a model it builds itself (the running run's best checkpoint, the last run's checkpoint,
or fresh weights of the form's settings), never on the model a training worker owns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from denoise_gui.inspect import reading
from denoise_gui.inspect.gradcheck_worker import GradcheckJob, GradcheckWorker, ModelFactory
from denoise_gui.inspect.plots import LayerCurves, LayerHistograms, LockstepPlot
from denoise_gui.inspect.tables import GradcheckTable, PipelineTable
from nnkit.denoise.events import LayerStats, Lockstep, Started

GradcheckSource = Callable[[], tuple[str, ModelFactory]]  # (what is checked, in words; how to build it)
FieldLabel = Callable[[str], str]  # a RunConfig field's label in the Train form ('Layer stats every')


def no_stats_text(field_label: FieldLabel) -> str:
    """The empty state, in the form's own words."""
    return (f"No per-layer statistics yet: set “{field_label('inspect_every')}” (say 10) in the Train form, "
            "then start a run (F1 says how to read this view).")


class InspectView(QWidget):
    """The third view of the app; ``attach(job)`` follows a TrainJob's inspection events."""

    sigUpdated = Signal(int)  # the step of the latest statistics drawn
    sigGradcheckDone = Signal(object)  # the rows, or the failure message

    def __init__(
        self,
        gradcheck_source: GradcheckSource | None = None,
        parent: QWidget | None = None,
        *,
        field_label: FieldLabel | None = None,
    ) -> None:
        super().__init__(parent)
        self.gradcheck_source = gradcheck_source
        self.field_label: FieldLabel = field_label or (lambda name: name)
        self.no_stats = no_stats_text(self.field_label)
        self.live = False  # following a running job (stored runs are not shown meanwhile)
        self.steps: list[int] = []
        self.history: dict[str, dict[str, list[float]]] = {}
        self.latest: LayerStats | None = None
        self.drift: list[Lockstep] = []
        self.gradcheck_job: GradcheckJob | None = None
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(0)  # many events in one delivery: one redraw
        self._redraw.timeout.connect(self._draw)

        self.layer_combo = QComboBox(self)
        self.layer_combo.setMinimumContentsLength(24)
        self.layer_combo.currentIndexChanged.connect(lambda _i: self._redraw.start())
        self.log_check = QCheckBox("Log scale", self)
        self.log_check.setChecked(True)
        self.log_check.toggled.connect(self._log_toggled)
        self.status_label = QLabel(self.no_stats, self)
        self.status_label.setWordWrap(True)
        self.curves = LayerCurves(self)
        self.histograms = LayerHistograms(self)
        self.lockstep = LockstepPlot(self, self.field_label("lockstep"))

        self.gradcheck_button = QPushButton("Gradient check", self)
        self.gradcheck_button.setToolTip("Each layer's hand-written backward against torch autograd and differences")
        self.gradcheck_button.clicked.connect(self.run_gradcheck)
        self.gradcheck_label = QLabel("Checks each layer's hand-written backward on its own (float64).", self)
        self.gradcheck_label.setWordWrap(True)
        self.gradcheck_table = GradcheckTable(self)
        self.gradcheck_table.setToolTip(reading.GRADCHECK)
        self.pipeline_label = QLabel("Pick a Conv2d layer to see its shapes.", self)
        self.pipeline_label.setWordWrap(True)
        self.pipeline_table = PipelineTable(self)
        self.pipeline_table.setToolTip(reading.PIPELINE)
        self.layer_combo.setToolTip("The layer drawn in blue (the others stay grey behind it) and shown below")
        self._lay_out()

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:", self))
        top.addWidget(self.layer_combo)
        top.addWidget(self.log_check)
        top.addWidget(self.status_label, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.histograms, 2)
        bottom.addWidget(self.lockstep, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.curves, 1)
        left_layout.addLayout(bottom, 1)
        check_box = QGroupBox("Gradient check", self)
        check_layout = QVBoxLayout(check_box)
        check_layout.addWidget(self.gradcheck_button)
        check_layout.addWidget(self.gradcheck_label)
        check_layout.addWidget(self.gradcheck_table, 1)
        pipe_box = QGroupBox("Conv2d: unfold → matrix product → fold", self)
        pipe_layout = QVBoxLayout(pipe_box)
        pipe_layout.addWidget(self.pipeline_label)
        pipe_layout.addWidget(self.pipeline_table, 1)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(check_box, 3)
        right_layout.addWidget(pipe_box, 2)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([820, 460])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    # -- a run's events ------------------------------------------------------------------------
    def attach(self, job: Any) -> None:
        """Follow a TrainJob: its Started resets the view, its LayerStats and Lockstep events fill it."""
        job.sigStarted.connect(self.on_started)
        job.sigFinished.connect(self.on_finished)
        job.sigLayerStats.connect(self.on_layer_stats)
        job.sigLockstep.connect(self.on_lockstep)

    def on_started(self, started: Started) -> None:
        self.live = True
        self._clear()
        every = started.config.inspect_every
        self.status_label.setText(f"Statistics every {every} steps: waiting for step {every}." if every
                                  else self.no_stats)
        self.lockstep.set_off(not started.config.lockstep)

    def on_finished(self, _finished: object = None) -> None:
        self.live = False

    def _clear(self) -> None:
        self.steps, self.history, self.latest, self.drift = [], {}, None, []
        self.layer_combo.clear()
        self.lockstep.show_drift([])
        self.curves.show_layers([], {}, "")
        self.histograms.show_layer(None, None, 0)
        self.pipeline_table.setRowCount(0)

    def on_layer_stats(self, event: LayerStats) -> None:
        report = event.report
        self._add_stats(event.step, report.stats, report.kinds)
        self.latest = event
        self.status_label.setText(f"Step {event.step} (epoch {event.epoch}): {len(report.stats)} layers")
        self._redraw.start()

    def _add_stats(self, step: int, stats_of: Mapping[str, Mapping[str, float]], kinds: Mapping[str, str]) -> None:
        if not self.history:
            for name in stats_of:
                kind = kinds.get(name)
                self.layer_combo.addItem(f"{name} · {kind}" if kind else name, name)
        self.steps.append(step)
        for name, stats in stats_of.items():
            layer = self.history.setdefault(name, {})
            for stat, value in stats.items():
                series = layer.setdefault(stat, [float("nan")] * (len(self.steps) - 1))
                series.append(float("nan") if value is None else value)  # null: not finite when written
            for series in layer.values():  # a stat missing this time stays aligned with the steps
                series.extend([float("nan")] * (len(self.steps) - len(series)))

    def show_stored(self, label: str, layers: Sequence[Mapping[str, Any]], drift: Sequence[Lockstep]) -> bool:
        """Show a past run's ``layers`` records (metrics.jsonl) and lockstep drift; False while a run is followed.

        The file keeps the per-layer numbers, not the histograms nor the shapes: those are drawn only
        while a run trains.
        """
        if self.live:
            return False
        self._clear()
        for record in layers:
            stats = record.get("layers")
            if isinstance(stats, Mapping):
                self._add_stats(int(record.get("step", 0)), stats, {})
        self.on_lockstep(drift)
        self.lockstep.set_off(not drift)
        if self.steps:
            self.status_label.setText(f"{label} (stored): {len(self.steps)} inspected steps, the last "
                                      f"{self.steps[-1]}; histograms and shapes are drawn while a run trains.")
        else:
            self.status_label.setText(f"{label} has no layer statistics. {self.no_stats}")
        self._redraw.start()
        return True

    def on_lockstep(self, drifts: Sequence[Lockstep]) -> None:
        self.drift.extend(drifts)
        self.lockstep.show_drift(self.drift)

    def selected_layer(self) -> str:
        data = self.layer_combo.currentData()
        return str(data) if data is not None else ""

    def _log_toggled(self, log: bool) -> None:
        self.curves.set_log(log)
        self._redraw.start()

    def _draw(self) -> None:
        name = self.selected_layer()
        self.curves.show_layers(self.steps, self.history, name)
        if self.latest is None:
            if self.steps:
                self.sigUpdated.emit(self.steps[-1])
            return
        report = self.latest.report
        self.histograms.show_layer(report.activations.get(name), report.gradients.get(name), self.latest.step)
        stages = self.latest.pipelines.get(name)
        if stages:
            self.pipeline_label.setText(f"{name} ({report.kinds.get(name, '')}) at step {self.latest.step}:")
            self.pipeline_table.show_stages(stages)
        else:
            self.pipeline_label.setText(f"{name or 'This layer'} is not a convolution: pick a Conv2d layer.")
            self.pipeline_table.setRowCount(0)
        self.sigUpdated.emit(self.latest.step)

    # -- the gradient check ----------------------------------------------------------------------
    def run_gradcheck(self) -> bool:
        """Start check_model in a worker; False if one is running or there is nothing to check."""
        if self.gradcheck_job is not None or self.gradcheck_source is None:
            return False
        try:
            what, factory = self.gradcheck_source()
        except ValueError as exc:
            self.gradcheck_label.setText(f"Nothing to check: {exc}")
            return False
        self.gradcheck_label.setText(f"Checking {what}…")
        self.gradcheck_button.setEnabled(False)
        job = GradcheckJob(GradcheckWorker(factory), self)
        job.sigRows.connect(lambda rows, what=what: self._gradcheck_rows(what, rows))
        job.sigFailed.connect(self._gradcheck_failed)
        job.sigFinished.connect(self._gradcheck_finished)
        self.gradcheck_job = job
        job.start()
        return True

    def _gradcheck_rows(self, what: str, rows: list[Any]) -> None:
        self.gradcheck_table.show_rows(rows)
        wrong = [r.name for r in rows if not r.ok]
        verdict = f"{len(wrong)} wrong: {', '.join(wrong)}" if wrong else f"all {len(rows)} rows ok"
        self.gradcheck_label.setText(f"{what}: {verdict}")
        self.sigGradcheckDone.emit(rows)

    def _gradcheck_failed(self, message: str) -> None:
        self.gradcheck_label.setText(message)
        self.sigGradcheckDone.emit(message)

    def _gradcheck_finished(self) -> None:
        if self.gradcheck_job is not None:
            self.gradcheck_job.release()
        self.gradcheck_job = None
        self.gradcheck_button.setEnabled(True)

    def wait_for_workers(self, timeout_ms: int) -> bool:
        """Block until the gradient check's thread ended (closing the window)."""
        return self.gradcheck_job is None or self.gradcheck_job.wait(timeout_ms)


def gradcheck_source(train_view: Any) -> tuple[str, ModelFactory]:
    """What the Gradient check button checks: the running run's best checkpoint, else the last run's
    checkpoint, else fresh He weights of the form's settings; ValueError when the form is invalid."""
    candidates: list[tuple[str, Path]] = []
    current = train_view.current if train_view.is_running() else None
    if current is not None:
        path = Path(train_view.library.checkpoint_path(current))
        candidates.append((f"{current.label} (best so far)", path.with_name(path.stem + ".best.safetensors")))
    last = train_view.last_run_with_checkpoint()
    if last is not None:
        candidates.append((last.label, Path(last.checkpoint)))
    for label, path in candidates:
        if path.is_file():
            return f"{label}, {path.name}", lambda path=path: _from_checkpoint(path)
    config, error = train_view.form.try_config()
    if config is None:
        raise ValueError(error)

    def fresh() -> Any:
        from nnkit.denoise.inspection import model_for_gradcheck

        return model_for_gradcheck(config.arch, config.width, config.seed)

    return f"a fresh {config.arch} of width {config.width} (He weights, seed {config.seed})", fresh


def _from_checkpoint(path: Path) -> Any:
    from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

    return model_from_checkpoint(load_checkpoint(path)).train()
