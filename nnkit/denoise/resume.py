"""Starting a run from a checkpoint: resuming it (weights, position, optimiser) or fine-tuning its weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nnkit import Module
from nnkit.denoise.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines import Engine

# the config fields that fix which batches each epoch draws: resuming with all of them the same
# skips the batches of the checkpoint's epoch already trained on
_BATCH_FIELDS = ("data", "data_path", "epoch_size", "batch_size", "crop_size", "seed")


@dataclass(frozen=True)
class ResumePoint:
    """What a resumed run takes from its checkpoint beyond the weights and the epoch and step."""

    same_batches: bool  # the run draws the checkpoint run's batches: skip those done
    optimizer_state: dict | None  # None when the optimiser or engine changed: a fresh one


def resume_into(model: Module, ckpt: Checkpoint, config: RunConfig) -> ResumePoint:
    """Load ``ckpt``'s weights into ``model`` for a run of ``config``; raises CheckpointError if they do not fit."""
    old, new = ckpt.config, config
    if (old.arch, old.width) != (new.arch, new.width):
        raise CheckpointError(
            ckpt.path or "checkpoint",
            f"holds arch={old.arch!r} width={old.width}, but the run asks for arch={new.arch!r} width={new.width}",
        )
    try:
        model.load_state_dict(ckpt.weights)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(ckpt.path or "checkpoint", f"weights do not fit the model: {exc}") from None
    same_batches = all(getattr(old, f) == getattr(new, f) for f in _BATCH_FIELDS)
    same_optimizer = (old.optimizer, old.engine) == (new.optimizer, new.engine)
    return ResumePoint(same_batches, ckpt.optimizer_state if same_optimizer else None)


def start_from(model: Module, path: Path, config: RunConfig) -> None:
    """Fine-tuning: the weights of the checkpoint at ``path`` (same arch and width), a fresh optimiser."""
    ckpt = load_checkpoint(path)
    old, new = ckpt.config, config
    if (old.arch, old.width) != (new.arch, new.width):
        raise CheckpointError(
            path, f"init_from holds arch={old.arch!r} width={old.width}, the run has {new.arch!r} width {new.width}"
        )
    model.load_state_dict(ckpt.weights)


def load_optimizer_state(engine: Engine, state: dict, where: str | Path, lr: float) -> None:
    """Give ``engine`` a resumed run's optimiser state, training at the run's ``lr`` (possibly lowered)."""
    try:
        engine.load_optimizer_state(state)
    except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
        raise CheckpointError(where, f"its optimiser state does not fit the run: {exc}") from None
    engine.set_learning_rate(lr)  # the run's rate, not the saved one
