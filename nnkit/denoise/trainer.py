"""The headless trainer: runs epochs of a RunConfig, reports events, stops cleanly, saves checkpoints.

``Trainer.run()`` blocks and calls ``on_event`` from the training thread with, in order:
``Started``; an initial ``Epoch(0)`` + ``Preview(0)`` (validation before any step, for the
curves; skipped when resuming); then per epoch a ``Step`` per optimiser step (followed by a
``LayerStats`` every ``inspect_every`` steps, and a ``Lockstep`` after each step of a lockstep
run) and an ``Epoch`` + ``Preview``; when all epochs are done and ``score_photos`` asks for it,
``PhotoScores`` (the final weights on the whole validation photos); and last
``Finished`` (also returned). Each epoch trains at the rate ``schedule.learning_rate`` gives
it. ``request_stop``, ``pause``
and ``resume`` may be called from any thread; they are honoured between steps.

Checkpoints: with a ``checkpoint_path`` the latest weights and optimiser state are written
(atomically) at the end of every epoch and when the run ends, so a killed run resumes from
its last epoch; nothing is rewritten when no step was taken since the last write, so a
resume that fails at once leaves its checkpoint as it was. ``<name>.best.safetensors`` holds the
best validated weights, the starting ones (epoch 0) included, and ``best_psnr`` is their score.

Divergence (see ``nnkit.denoise.divergence``): a NaN or Inf loss, non-finite weights or
validation output, or a validation PSNR more than 1 dB below the noisy input's from the
second epoch on, ends the run with reason "diverged" and a message saying which. The model
is then restored to the *best validated weights* (the starting weights included, so never
worse than those), and the checkpoint written then holds them, with the epoch and step they
were validated at, and no optimiser state: the same weights as the best checkpoint (a resumed run
whose earlier session validated better weights goes back to that session's best file).

Errors inside ``run()`` end the run with reason "error" (after saving a checkpoint when a
step was taken) instead of escaping to the caller's thread; unexpected ones are logged with
their traceback, errors of the user's input (ValueError, OSError) with their message only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import torch

from nnkit import Module
from nnkit.denoise.checkpoint import Checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import PairData, load_data
from nnkit.denoise.device import resolve_device
from nnkit.denoise.distributed import Group, PeerLostError, data_parallel
from nnkit.denoise.divergence import BestWeights, below_noisy_message, go_back_to_best
from nnkit.denoise.engines import Engine, LockstepEngine, make_engine
from nnkit.denoise.epoch_steps import epoch_steps
from nnkit.denoise.epoch_validation import BestScore, final_photo_scores, validate_epoch
from nnkit.denoise.events import Event, Finished, Started, Step
from nnkit.denoise.inspection import layer_stats_event
from nnkit.denoise.models import build_model
from nnkit.denoise.resume import load_optimizer_state, resume_into, start_from
from nnkit.denoise.run_checkpoints import RunCheckpoints, describe_error, write_run_state
from nnkit.denoise.run_control import RunControl
from nnkit.denoise.schedule import learning_rate
from nnkit.denoise.step_timer import RunClock, StepTimer
from nnkit.denoise.validation import PREVIEW_COUNT, PREVIEW_SIDE, quality, score_weights, to_uint8

__all__ = ["PREVIEW_COUNT", "PREVIEW_SIDE", "Trainer", "to_uint8"]  # PREVIEW_* and to_uint8 live in .validation

log = logging.getLogger(__name__)


class Trainer:
    """Trains ``build_model(config)`` (or a checkpoint's weights) with the config's engine."""

    def __init__(
        self,
        config: RunConfig,
        on_event: Callable[[Event], None] | None = None,
        *,
        checkpoint_path: str | Path | None = None,
        resume_from: Checkpoint | None = None,
        group: Group | None = None,
        model: Module | None = None,
        data: PairData | None = None,
    ) -> None:
        """``model``/``data``: train these (e.g. nnkit.denoise.course) instead of building them from ``config``."""
        self.config = config
        self.on_event = on_event
        self.group = group  # data-parallel: this process's rank (nnkit.denoise.distributed), None alone
        self._checkpoints = RunCheckpoints(checkpoint_path)
        self.device = resolve_device(config.device)  # ConfigError now rather than half-way
        self.model: Module = model if model is not None else build_model(config)
        self._given_data = data
        self.epoch = 0  # epochs completed
        self.step = 0  # optimiser steps done, over all epochs
        self._best = BestScore()
        self._resume_optimizer: dict | None = None
        self._same_batches = True  # resuming with the batches of the checkpoint's run: skip those done
        self._resumed: Checkpoint | None = None
        self._control = RunControl()
        self._clock = RunClock(0.0, self._control)
        self._best_weights = BestWeights()
        if resume_from is not None:
            point = resume_into(self.model, resume_from, config)
            self.epoch, self.step, self._best.psnr = resume_from.epoch, resume_from.step, resume_from.best_psnr
            self._resumed = resume_from
            self._clock.before_s = resume_from.elapsed_s
            self._checkpoints.continue_from(resume_from)
            self._same_batches, self._resume_optimizer = point.same_batches, point.optimizer_state
        elif config.init_from:
            start_from(self.model, Path(config.init_from), config)
        self.engine: Engine | None = None
        self.data: PairData | None = None
        self._start_step = self.step
        self._noisy_psnr = float("nan")  # the validation inputs' own PSNR, once the data are loaded
        self._lr = config.lr  # the rate the engine trains with now (schedule.learning_rate sets it per epoch)

    @property
    def checkpoint_path(self) -> Path | None:
        """The latest checkpoint's file (".safetensors" added), None when the run saves none."""
        return self._checkpoints.latest

    @property
    def best_psnr(self) -> float:
        """The best validation PSNR of the run (earlier sessions included), NaN before any."""
        return self._best.psnr

    @property
    def best_val_loss(self) -> float:
        """The lowest validation loss of this session (blind-spot runs without clean references pick by it)."""
        return self._best.val_loss

    # -- requests from other threads -----------------------------------------------------
    def request_stop(self) -> None:
        """Ask the run to stop after the current step (thread-safe)."""
        self._control.request_stop()

    def pause(self) -> None:
        """Ask the run to wait before its next step until ``resume()`` (thread-safe)."""
        self._control.pause()

    def resume(self) -> None:
        """Let a paused run go on (thread-safe)."""
        self._control.resume()

    @property
    def paused(self) -> bool:
        return self._control.paused

    # -- checkpoints ------------------------------------------------------------------------
    def save_checkpoint(self, path: str | Path, *, with_optimizer: bool = True, elapsed_s: float = 0.0) -> Path:
        """Write the current weights (and optimiser state) to ``path``; call from the training thread."""
        return write_run_state(
            path,
            model=self.model,
            engine=self.engine,
            config=self.config,
            epoch=self.epoch,
            step=self.step,
            best_psnr=self.best_psnr,
            elapsed_s=elapsed_s or self._clock.before_s,
            with_optimizer=with_optimizer,
            saved_optimizer=self._resume_optimizer,
        )

    def _save_latest(self, *, with_optimizer: bool = True, elapsed_s: float = 0.0) -> Path:
        assert self.checkpoint_path is not None
        path = self.save_checkpoint(self.checkpoint_path, with_optimizer=with_optimizer, elapsed_s=elapsed_s)
        self._checkpoints.mark_saved(self.epoch, self.step)
        return path

    def _save_best(self) -> None:
        best = self._checkpoints.best
        if best is not None:
            self.save_checkpoint(best, with_optimizer=False, elapsed_s=self._clock.elapsed())

    # -- the run ----------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def run(self) -> Finished:
        """Train until done, stopped, diverged or failed; returns (and emits) the Finished event."""
        try:
            finished = self._run()
        except KeyboardInterrupt:
            # a hard interrupt (e.g. a second Ctrl-C): save what there is, then let it go on up
            self._finish("stopped", f"interrupted at step {self.step}", with_optimizer=True)
            raise
        except PeerLostError as exc:  # another process of a data-parallel run died: say so, no traceback
            finished = self._finish("error", str(exc), with_optimizer=True)
        except Exception as exc:
            if isinstance(exc, (ValueError, OSError)):  # bad input (data, checkpoint, disk): the message says it
                log.warning("training failed: %s", exc)
                log.debug("training failed", exc_info=True)
            else:
                log.exception("training failed")
            finished = self._finish("error", f"training failed: {describe_error(exc)}", with_optimizer=True)
        try:
            self._emit(finished)
        except Exception:
            log.exception("the on_event callback failed on Finished")
        return finished

    def _finish(self, reason: str, message: str, *, with_optimizer: bool, force_save: bool = False) -> Finished:
        if self.engine is not None:
            self.engine.sync_model()
        progressed = self.step != self._checkpoints.saved_step and (reason != "error" or self.step > self._start_step)
        saved, failure = self._checkpoints.save_at_end(
            lambda: self._save_latest(with_optimizer=with_optimizer, elapsed_s=self._clock.elapsed()),
            progressed=progressed,
            force=force_save,
            can_save=self.engine is not None,
        )
        if failure is not None:
            message += f" (saving the checkpoint failed too: {failure}); {self._checkpoints.last_good()}"
            if reason in ("done", "stopped"):
                reason = "error"
        return Finished(
            reason,  # type: ignore[arg-type]
            message,
            epoch=self.epoch,
            step=self.step,
            best_psnr=self.best_psnr,
            checkpoint=saved,
        )

    def _run(self) -> Finished:
        """The run, step by step: set up, validate the start, train the epochs, finish."""
        engine = self._set_up()
        by_psnr = self._by_psnr
        start_score = self._score_resumed_start()
        self._emit_started(start_score)
        self._clock.start()
        if self._resumed is None and self.epoch == 0 and self.step == 0:
            start_score = self._validate(0, float("nan"), 0.0, float("nan"))
            self._best_weights.offer(engine.parameter_tensors(), quality(start_score, by_psnr), 0, 0)
        timer = StepTimer()
        previous_score = start_score
        first_epoch = self.epoch + 1
        for epoch in range(first_epoch, self.config.epochs + 1):
            losses = self._train_epoch(epoch, timer)
            if isinstance(losses, Finished):
                return losses
            score = self._end_epoch(epoch, losses, first_epoch)
            if isinstance(score, Finished):
                return score
            diverged = self._check_progress(epoch, score, previous_score, start_score)
            if diverged is not None:
                return diverged
            previous_score = score
            if self.checkpoint_path is not None and epoch < self.config.epochs:
                self._save_latest(elapsed_s=self._clock.elapsed())  # a killed run resumes from here
        if first_epoch > self.config.epochs:
            return self._finish(
                "done", f"nothing to train: {self.epoch} epochs done already (epochs={self.config.epochs})",
                with_optimizer=True,
            )
        self._score_photos()
        best = f"PSNR {self.best_psnr:.2f} dB" if math.isfinite(self.best_psnr) else f"loss {self.best_val_loss:.5f}"
        return self._finish("done", f"trained {self.config.epochs} epochs, best validation {best}", with_optimizer=True)

    @property
    def _by_psnr(self) -> bool:
        """Validation against clean images (a PSNR, higher is better), else a blind-spot loss (lower is better)."""
        assert self.data is not None
        return self.data.val_clean is not None

    def _set_up(self) -> Engine:
        """Clear killed runs' leftovers, load the data, make the engine (data-parallel, resumed optimiser)."""
        self._checkpoints.remove_leftovers()  # leftovers of killed runs' writes
        self.data = self._given_data if self._given_data is not None else load_data(self.config)
        self._noisy_psnr = self.data.noisy_psnr()  # the floor of divergence, computed once
        self.engine = engine = make_engine(self.config, self.model)
        if self.group is not None:
            data_parallel(engine, self.group)
        if self._resume_optimizer is not None:
            where = self._resumed.path if self._resumed is not None and self._resumed.path else "checkpoint"
            load_optimizer_state(engine, self._resume_optimizer, where, self.config.lr)
        return engine

    def _score_resumed_start(self) -> float:
        """A resumed run's starting weights' score (for the progress line, and the floor to keep); NaN otherwise."""
        assert self.data is not None and self.engine is not None
        if self._resumed is None:
            return float("nan")
        score = score_weights(self.engine, self.data)
        self._best_weights.offer(self.engine.parameter_tensors(), quality(score, self._by_psnr), self.epoch, self.step)
        return score

    def _emit_started(self, start_score: float) -> None:
        assert self.data is not None and self.engine is not None
        data, resumed = self.data, self._resumed
        self._emit(
            Started(
                config=self.config,
                device=str(self.engine.device),
                num_parameters=self.model.num_parameters(),
                steps_per_epoch=data.batches_per_epoch(self.config.batch_size),
                train_size=data.train_size,
                val_size=int(data.val_noisy.shape[0]),
                noisy_psnr=self._noisy_psnr,
                resumed_from=resumed.path if resumed is not None else "",
                resumed_epoch=resumed.epoch if resumed is not None else 0,
                start_val_psnr=start_score if self._by_psnr else float("nan"),
            )
        )

    def _train_epoch(self, epoch: int, timer: StepTimer) -> list[float] | Finished:
        """The optimiser steps of ``epoch`` (emitting their events); their losses, or how the run ended."""
        assert self.data is not None and self.engine is not None
        cfg, engine = self.config, self.engine
        # > 0 when resuming mid-epoch: skip the batches already trained on (same data and batches only)
        steps_per_epoch = self.data.batches_per_epoch(cfg.batch_size)
        done_in_epoch = self.step - (epoch - 1) * steps_per_epoch if self._same_batches else 0
        losses: list[float] = []
        self._apply_schedule(epoch)
        steps = epoch_steps(
            engine, self.data, epoch, batch_size=cfg.batch_size, group=self.group, skip=done_in_epoch,
            first_step=self.step, inspect_every=cfg.inspect_every, timer=timer, control=self._control,
            stop_requested=self._stop_requested,
        )  # fmt: skip
        for trained in steps:
            if trained is None:
                return self._finish("stopped", self._stopped_message(), with_optimizer=True)
            if not math.isfinite(trained.loss):
                at = f"at step {self.step + 1} (epoch {epoch})"
                return self._diverged(f"the training loss became {trained.loss} {at}")
            self.step += 1
            losses.append(trained.loss)
            images = trained.batch_size * (self.group.world_size if self.group is not None else 1)
            self._emit(Step(self.step, epoch, trained.loss, images / max(trained.seconds, 1e-9)))
            if trained.report is not None:
                self._emit(layer_stats_event(self.model, trained.report, self.step, epoch))
            if isinstance(engine, LockstepEngine):
                self._emit(engine.event(self.step))
        return losses

    def _end_epoch(self, epoch: int, losses: list[float], first_epoch: int) -> float | Finished:
        """Check the weights, validate ``epoch`` and keep the weights if best; the score, or the divergence."""
        assert self.engine is not None
        params = self.engine.parameter_tensors()
        if not all(bool(torch.isfinite(t).all()) for t in params):
            return self._diverged(f"the weights became NaN or Inf at step {self.step} (epoch {epoch})")
        self.epoch = epoch
        session = self._clock.session_s()
        eta = session / (epoch - first_epoch + 1) * (self.config.epochs - epoch)
        train_loss = sum(losses) / len(losses) if losses else float("nan")
        score = self._validate(epoch, train_loss, self._clock.elapsed(), eta)
        if not math.isfinite(score):
            return self._diverged(f"the validation output became NaN or Inf after epoch {epoch}")
        self._best_weights.offer(params, quality(score, self._by_psnr), epoch, self.step)
        return score

    def _check_progress(self, epoch: int, score: float, previous: float, start: float) -> Finished | None:
        """End the run as diverged when its validation PSNR has fallen too far (see nnkit.denoise.divergence)."""
        if not self._by_psnr:
            return None
        too_low = below_noisy_message(epoch, score, previous, start, self._noisy_psnr)
        return self._diverged(too_low) if too_low is not None else None

    def _apply_schedule(self, epoch: int) -> None:
        """Set the schedule's learning rate for ``epoch`` (only when it changes: a CUDA graph is captured again)."""
        assert self.engine is not None
        lr = learning_rate(self.config, epoch)
        if lr != self._lr:
            self.engine.set_learning_rate(lr)
        self._lr = lr

    def _score_photos(self) -> None:
        """Emit PhotoScores (see epoch_validation.final_photo_scores); a stop request cancels it between tiles."""
        assert self.data is not None and self.engine is not None
        event = final_photo_scores(
            self.config, self.data, self.model, self.engine, self.epoch, self.group, self._control.stop_requested
        )
        if event is not None:
            self._emit(event)

    def _stop_requested(self) -> bool:
        """A stop asked here, or (data-parallel) on any process: every rank stops after the same step."""
        if self.group is None:
            return self._control.stop_requested()
        return self.group.any(self._control.stop_requested())

    def _stopped_message(self) -> str:
        return f"stopped at step {self.step} after {self.epoch} of {self.config.epochs} epochs"

    def _diverged(self, what: str) -> Finished:
        """End a diverged run with the best validated weights (the starting ones at worst)."""
        assert self.engine is not None
        hint = f"lower the learning rate ({self.config.lr:g})"
        log.warning("training diverged: %s", what)
        by_psnr = self.data is None or self.data.val_clean is not None
        kept = go_back_to_best(
            self._best_weights, self.engine, self._restore_best_file, by_psnr=by_psnr, best_file_psnr=self.best_psnr
        )
        if kept.position is not None:
            self.epoch, self.step = kept.position
        force = kept.position is not None
        return self._finish("diverged", f"{what}: {hint}; {kept.description}", with_optimizer=False, force_save=force)

    def _restore_best_file(self, kept_psnr: float) -> tuple[int, int] | None:
        """Go back to the best checkpoint's weights when they beat those kept in memory (main process only)."""
        if self.engine is None or (self.group is not None and not self.group.is_main):
            return None
        return self._checkpoints.restore_best(self.engine, kept_psnr=kept_psnr, best_psnr=self.best_psnr)

    def _validate(self, epoch: int, train_loss: float, elapsed: float, eta: float) -> float:
        """Emit the epoch's Epoch and Preview events (saving the best checkpoint); returns the validation score."""
        assert self.data is not None and self.engine is not None
        lr = self._lr if epoch > 0 else float("nan")
        return validate_epoch(
            self.engine, self.data, self._best, epoch=epoch, train_loss=train_loss, elapsed=elapsed, eta=eta, lr=lr,
            group=self.group, save_best=self._save_best, emit=self._emit,
        )  # fmt: skip
