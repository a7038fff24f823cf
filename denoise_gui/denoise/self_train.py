"""SelfTrainPanel: "Train on these photos" in the Denoise view (blind-spot training, then denoising).

The open photos are copied into a new run folder (``<run>/photos``: the originals are only read) and
a blind-spot run (RunConfig ``target="self"``, ``noise="none"``, ``data="folder"``) trains on them on
a worker thread (the train view's TrainWorker), with a progress bar (and the time left) and the live
training loss. The run folder is a run of the runs library when the main window gives
``reserve_folder`` (the Train view's), and ``sigJobStarted`` lets the Train view follow the run in
its table and curves like its own; alone, the panel makes a ``self-<date-time>`` folder. When it ends
with a checkpoint, ``sigTrained`` gives its path (the best by the held-out masked loss when there is
one); the main window loads it and the Denoise view denoises the open photos with it, at the
strength the Strength slider holds (said when the run starts and ends). The same button stops a run
(it keeps what it learned so far and is used as well).
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from denoise_gui.threads.train_worker import TrainerFactory, TrainJob, TrainWorker
from denoise_gui.widgets.durations import format_duration
from nnkit.denoise.config import RunConfig
from nnkit.denoise.events import Epoch, Finished, Started, Step

START_TEXT = "Train on these photos"
STOP_TEXT = "Stop training"
CHECKPOINT_FILE = "checkpoint.safetensors"  # as in the runs library; the trainer adds checkpoint.best.safetensors


def blindspot_config(base: RunConfig, photos: Path) -> RunConfig:
    """``base`` turned into a blind-spot run on the photos in the folder ``photos`` (nothing added to them)."""
    return base.replace(data="folder", data_path=str(photos), noise="none", target="self", clean_path="")


def _new_run_folder(root: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = root / (f"self-{stamp}" if n == 0 else f"self-{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(f"no free run folder name under {root}")


def copy_photos(paths: list[str], folder: Path) -> list[Path]:
    """Copy the photos into ``folder`` (created), numbered so that equal names from two folders both stay."""
    folder.mkdir(parents=True, exist_ok=False)
    copies = []
    for index, path in enumerate(paths):
        source = Path(path)
        target = folder / f"{index:03d}-{source.name}"
        shutil.copyfile(source, target)
        copies.append(target)
    return copies


class SelfTrainPanel(QWidget):
    """The button, a progress bar and a loss label; emits sigTrained(checkpoint path, model name)."""

    sigTrained = Signal(str, str)
    sigStatus = Signal(str)
    sigJobStarted = Signal(object, str, object)  # TrainJob, its run folder, its RunConfig

    def __init__(
        self,
        photo_paths: Callable[[], list[str]],
        runs_dir: Path,
        *,
        config: RunConfig | None = None,
        trainer_factory: TrainerFactory | None = None,
        strength: Callable[[], float] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.photo_paths = photo_paths  # the open photos (DenoiseView.photo_paths)
        self.strength = strength  # the Strength slider's value, which the denoising after the run uses
        self.reserve_folder: Callable[[RunConfig], Path] | None = None  # a runs-library run (main window)
        self.started_at = 0.0
        self.runs_dir = Path(runs_dir)
        self.base_config = config or RunConfig()
        self.trainer_factory = trainer_factory
        self.job: TrainJob | None = None
        self._ending: list[TrainJob] = []
        self.run_folder: Path | None = None
        self.total_steps = 0
        self.last_finished: Finished | None = None
        self.button = QPushButton(START_TEXT, self)
        self.button.setObjectName("selfTrainButton")
        self.button.setToolTip(
            "Train a blind-spot denoiser on the open photos themselves (no clean or second shots needed), "
            "then denoise them with it"
        )
        self.button.clicked.connect(self.toggle)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.label = QLabel("", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.progress)
        layout.addWidget(self.label)

    # -- starting and stopping ---------------------------------------------------------------
    def is_running(self) -> bool:
        """Whether a run is going."""
        return self.job is not None

    def toggle(self) -> None:
        """The button: start a run, or stop the one going."""
        if self.job is not None:
            self.stop()
        else:
            self.start()

    def start(self) -> bool:
        """Copy the open photos into a new run folder and start training on them; False if nothing started."""
        if self.job is not None:
            return False
        paths = list(self.photo_paths())
        if not paths:
            self._say("Open photos first (drop them here or Ctrl+O): the run trains on them")
            return False
        try:
            if self.reserve_folder is not None:
                folder = self.reserve_folder(blindspot_config(self.base_config, Path("photos")))
            else:
                folder = _new_run_folder(self.runs_dir)
            copy_photos(paths, folder / "photos")
        except OSError as exc:
            self._say(f"Could not prepare the run folder: {exc}")
            return False
        self.run_folder = folder
        config = blindspot_config(self.base_config, folder / "photos")
        checkpoint = folder / CHECKPOINT_FILE
        worker = TrainWorker(config, checkpoint_path=checkpoint, factory=self.trainer_factory)
        self.job = job = TrainJob(worker, self)
        job.sigStarted.connect(self._on_started)
        job.sigStep.connect(self._on_steps)
        job.sigEpoch.connect(self._on_epoch)
        job.sigFinished.connect(self._on_finished)
        self.total_steps = 0
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.progress.show()
        self.button.setText(STOP_TEXT)
        self.label.setText("preparing…")
        self._say(f"Training on {len(paths)} photo(s) in {folder}; then they are denoised with it{self._at_strength()}")
        self.sigJobStarted.emit(job, str(folder), config)
        job.start()
        return True

    def _at_strength(self) -> str:
        """' at strength 60% (the Strength slider)' when the slider is below 100%, else ''."""
        percent = round(self.strength() * 100) if self.strength is not None else 100
        return f" at strength {percent}% (the Strength slider)" if percent < 100 else ""

    def stop(self) -> None:
        """Ask the run to stop after its current step (it saves; sigTrained follows)."""
        if self.job is not None:
            self.job.stop()
            self.label.setText("stopping…")

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop a run and wait for its thread; True when no thread is left running."""
        job = self.job
        if job is not None:
            job.stop()
        return all(j.wait(timeout_ms) for j in [*([job] if job else []), *self._ending])

    # -- events ------------------------------------------------------------------------------
    def _on_started(self, started: Started) -> None:
        self.total_steps = started.steps_per_epoch * started.config.epochs
        self.progress.setMaximum(max(1, self.total_steps))
        self.started_at = time.monotonic()

    def _on_steps(self, steps: tuple[Step, ...]) -> None:
        last = steps[-1]
        self.progress.setValue(min(last.step, self.progress.maximum()))
        self.progress.setFormat(f"%p% · {format_duration(self.time_left(last.step))} left")
        self.label.setText(f"epoch {last.epoch} · loss {last.loss:.5f}")

    def time_left(self, step: int) -> float:
        """Seconds to the end of the run at the pace so far (NaN before the pace is known)."""
        done = step
        if done <= 0 or self.total_steps <= 0 or not self.started_at:
            return math.nan
        return (time.monotonic() - self.started_at) / done * max(self.total_steps - step, 0)

    def _on_epoch(self, epoch: Epoch) -> None:
        if epoch.epoch > 0 and math.isfinite(epoch.val_loss):
            self.label.setText(f"epoch {epoch.epoch} · held-out loss {epoch.val_loss:.5f}")

    def _on_finished(self, finished: Finished) -> None:
        self.last_finished = finished
        job, self.job = self.job, None
        if job is not None:
            self._ending.append(job)
            job.release()
        self._ending = [j for j in self._ending if not j.qthread.isFinished()]
        self.button.setText(START_TEXT)
        self.progress.hide()
        folder = self.run_folder
        usable = finished.reason in ("done", "stopped") and finished.checkpoint and folder is not None
        if not usable:
            self.label.setText("")
            self._say(f"Training on the photos ended ({finished.reason}): {finished.message}")
            return
        assert folder is not None
        best = Path(str(finished.checkpoint)).with_suffix(".best.safetensors")
        path = best if best.is_file() else Path(str(finished.checkpoint))
        self.label.setText("trained: denoising…")
        self._say(f"Trained on the photos ({finished.message}); denoising them with {path.name}{self._at_strength()}")
        self.sigTrained.emit(str(path), f"blind-spot, {folder.name}")

    def _say(self, text: str) -> None:
        self.sigStatus.emit(text)
