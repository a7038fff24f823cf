"""A run's checkpoint files: the latest (resumable, rewritten at each epoch's end) and the best validated.

``<name>.safetensors`` holds the latest weights and optimiser state; ``<name>.best.safetensors``
the best validated weights (no optimiser state). ``RunCheckpoints`` knows where they are and what
the latest one on disk holds, so that nothing is rewritten when no step was taken since, and a
failed save can name the last good file. The trainer decides when to write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from nnkit import Module
from nnkit.denoise.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines import Engine
from nnkit.denoise.tempfiles import remove_dead_temp_files

# the trainer's logger, not this module's: denoise-train quiets that one while its summary line speaks
log = logging.getLogger("nnkit.denoise.trainer")


def with_suffix(path: Path) -> Path:
    """``path`` as ``save_checkpoint`` writes it (".safetensors" added if missing)."""
    return path if path.suffix == ".safetensors" else path.with_name(path.name + ".safetensors")


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def describe_error(exc: BaseException) -> str:
    """An error in a line: the file and the reason of an OSError ("x/metrics.jsonl: No space left on device")."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    return f"{type(exc).__name__}: {exc}"


def write_run_state(
    path: str | Path,
    *,
    model: Module,
    engine: Engine | None,
    config: RunConfig,
    epoch: int,
    step: int,
    best_psnr: float,
    elapsed_s: float,
    with_optimizer: bool,
    saved_optimizer: dict | None,
) -> Path:
    """Write ``model``'s weights (and the optimiser state) to ``path``, atomically; returns the file written.

    Before the engine exists (a run that failed while setting up) the optimiser state is the one
    the run resumed with, ``saved_optimizer``, so a resumable file stays resumable.
    """
    if engine is not None:
        engine.sync_model()
    optimizer_state = None
    if with_optimizer and engine is not None:
        optimizer_state = engine.optimizer_state()
    elif with_optimizer:
        optimizer_state = saved_optimizer
    return save_checkpoint(
        path,
        weights=model.state_dict(),
        optimizer_state=optimizer_state,
        config=config,
        epoch=epoch,
        step=step,
        best_psnr=best_psnr,
        elapsed_s=elapsed_s,
    )


class RunCheckpoints:
    """Where a run's checkpoints go, and the epoch and step of the latest one on disk."""

    def __init__(self, path: str | Path | None) -> None:
        self.latest = with_suffix(Path(path)) if path is not None else None
        self.saved_step: int | None = None  # step of the checkpoint on disk at ``latest``
        self.saved_epoch = 0

    @property
    def best(self) -> Path | None:
        """``<name>.best.safetensors`` beside the latest checkpoint."""
        if self.latest is None:
            return None
        name = self.latest.name.removesuffix(".safetensors")
        return self.latest.with_name(f"{name}.best.safetensors")

    def continue_from(self, ckpt: Checkpoint) -> None:
        """A resumed run: when it continues that very file, the file holds its epoch and step already."""
        if self.latest is not None and ckpt.path and _same_file(ckpt.path, self.latest):
            self.saved_step, self.saved_epoch = ckpt.step, ckpt.epoch

    def mark_saved(self, epoch: int, step: int) -> None:
        self.saved_step, self.saved_epoch = step, epoch

    def remove_leftovers(self) -> None:
        """Remove the temporary files of killed runs' writes beside the checkpoint."""
        if self.latest is not None:
            remove_dead_temp_files(self.latest.parent)

    def last_good(self) -> str:
        """Where the last checkpoint saved whole is, for a message after a failed save."""
        path = self.latest
        if path is None or self.saved_step is None or not path.is_file():
            return "no checkpoint of this run was saved"
        return f"the last good checkpoint is {path} (epoch {self.saved_epoch}, step {self.saved_step})"

    def save_at_end(
        self, save: Callable[[], Path], *, progressed: bool, force: bool, can_save: bool
    ) -> tuple[str | None, str | None]:
        """The latest checkpoint when a run ends: (its path or None, why saving failed or None).

        Left as it is when it holds this state already (no step since it was written, and no
        ``force``); written by ``save`` when the run ``progressed`` (or ``force``) and ``can_save``.
        """
        if self.latest is not None and self.saved_step is not None and not progressed and not force:
            return str(self.latest), None  # it holds this very state already: left as it is
        if self.latest is None or not can_save or not (progressed or force):
            return None, None
        try:
            return str(save()), None
        except Exception as exc:
            if isinstance(exc, OSError):  # a full disk, a folder gone read-only: the message says it
                log.warning("saving the checkpoint failed: %s", exc)
            else:
                log.exception("saving the checkpoint failed")
            return None, describe_error(exc)

    def restore_best(self, engine: Engine, *, kept_psnr: float, best_psnr: float) -> tuple[int, int] | None:
        """Load the best checkpoint's weights when they beat those kept in memory; returns (epoch, step) or None.

        Only a resumed run can be in that case: its best checkpoint may come from an earlier session,
        validated better than anything this session saw (its starting weights included).
        """
        path = self.best
        if path is None or not best_psnr > kept_psnr or not path.is_file():
            return None
        try:
            ckpt = load_checkpoint(path)
            engine.load_model_state(ckpt.weights)
        except (CheckpointError, OSError, KeyError, ValueError) as exc:
            log.warning("could not go back to the best checkpoint %s: %s", path, exc)
            return None
        engine.sync_model()
        return ckpt.epoch, ckpt.step
