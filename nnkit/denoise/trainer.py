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
import time
from collections.abc import Callable
from pathlib import Path

import torch

from nnkit import Module
from nnkit.denoise.checkpoint import Checkpoint, CheckpointError, save_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import PairData, load_data
from nnkit.denoise.device import resolve_device
from nnkit.denoise.distributed import Group, PeerLostError, data_parallel
from nnkit.denoise.divergence import BestWeights, below_noisy_message
from nnkit.denoise.engines import Engine, LockstepEngine, make_engine
from nnkit.denoise.events import Epoch, Event, Finished, Started, Step
from nnkit.denoise.inspection import layer_stats_event
from nnkit.denoise.models import build_model
from nnkit.denoise.run_control import RunControl
from nnkit.denoise.schedule import learning_rate
from nnkit.denoise.step_timer import StepTimer
from nnkit.denoise.tempfiles import remove_dead_temp_files
from nnkit.denoise.validation import (
    PREVIEW_COUNT,
    PREVIEW_SIDE,
    noisy_photos,
    photo_scores_event,
    preview_event,
    quality,
    score_validation,
    score_weights,
    to_uint8,
)

__all__ = ["PREVIEW_COUNT", "PREVIEW_SIDE", "Trainer", "to_uint8"]  # PREVIEW_* and to_uint8 live in .validation

log = logging.getLogger(__name__)


def _with_suffix(path: Path) -> Path:
    """``path`` as ``save_checkpoint`` writes it (".safetensors" added if missing)."""
    return path if path.suffix == ".safetensors" else path.with_name(path.name + ".safetensors")


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _describe(exc: BaseException) -> str:
    """An error in a line: the file and the reason of an OSError ("x/metrics.jsonl: No space left on device")."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    return f"{type(exc).__name__}: {exc}"


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
        self.checkpoint_path = _with_suffix(Path(checkpoint_path)) if checkpoint_path is not None else None
        self.device = resolve_device(config.device)  # ConfigError now rather than half-way
        self.model: Module = model if model is not None else build_model(config)
        self._given_data = data
        self.epoch = 0  # epochs completed
        self.step = 0  # optimiser steps done, over all epochs
        self.best_psnr = float("nan")
        self.best_val_loss = float("nan")  # blind-spot runs without clean references pick their best by this
        self._resume_optimizer: dict | None = None
        self._same_batches = True  # resuming with the batches of the checkpoint's run: skip those done
        self._resumed: Checkpoint | None = None
        self._elapsed_before = 0.0  # training time of the run before this session (resumed runs)
        self._saved_step: int | None = None  # step of the checkpoint on disk at checkpoint_path
        self._saved_epoch = 0
        self._best_weights = BestWeights()
        if resume_from is not None:
            self._restore(resume_from)
        elif config.init_from:
            self._start_from(Path(config.init_from))
        self.engine: Engine | None = None
        self.data: PairData | None = None
        self._control = RunControl()
        self._session_start: float | None = None
        self._start_step = self.step
        self._noisy_psnr = float("nan")  # the validation inputs' own PSNR, once the data are loaded
        self._lr = config.lr  # the rate the engine trains with now (schedule.learning_rate sets it per epoch)

    def _restore(self, ckpt: Checkpoint) -> None:
        old, new = ckpt.config, self.config
        if (old.arch, old.width) != (new.arch, new.width):
            raise CheckpointError(
                ckpt.path or "checkpoint",
                f"holds arch={old.arch!r} width={old.width}, but the run asks for arch={new.arch!r} width={new.width}",
            )
        try:
            self.model.load_state_dict(ckpt.weights)
        except (KeyError, ValueError) as exc:
            raise CheckpointError(ckpt.path or "checkpoint", f"weights do not fit the model: {exc}") from None
        self.epoch, self.step, self.best_psnr = ckpt.epoch, ckpt.step, ckpt.best_psnr
        self._resumed = ckpt
        self._elapsed_before = ckpt.elapsed_s
        if self.checkpoint_path is not None and ckpt.path and _same_file(ckpt.path, self.checkpoint_path):
            self._saved_step, self._saved_epoch = ckpt.step, ckpt.epoch  # continuing that very file: it holds them
        batches = ("data", "data_path", "epoch_size", "batch_size", "crop_size", "seed")
        self._same_batches = all(getattr(old, f) == getattr(new, f) for f in batches)
        same_optimizer = (old.optimizer, old.engine) == (new.optimizer, new.engine)
        self._resume_optimizer = ckpt.optimizer_state if same_optimizer else None

    def _start_from(self, path: Path) -> None:
        """Fine-tuning: the weights of the checkpoint at ``path`` (same arch and width), a fresh optimiser."""
        from nnkit.denoise.checkpoint import load_checkpoint

        ckpt = load_checkpoint(path)
        old, new = ckpt.config, self.config
        if (old.arch, old.width) != (new.arch, new.width):
            raise CheckpointError(
                path, f"init_from holds arch={old.arch!r} width={old.width}, the run has {new.arch!r} width {new.width}"
            )
        self.model.load_state_dict(ckpt.weights)

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
        if self.engine is not None:
            self.engine.sync_model()
        optimizer_state = None
        if with_optimizer and self.engine is not None:
            optimizer_state = self.engine.optimizer_state()
        elif with_optimizer:
            optimizer_state = self._resume_optimizer
        return save_checkpoint(
            path,
            weights=self.model.state_dict(),
            optimizer_state=optimizer_state,
            config=self.config,
            epoch=self.epoch,
            step=self.step,
            best_psnr=self.best_psnr,
            elapsed_s=elapsed_s or self._elapsed_before,
        )

    def _save_latest(self, *, with_optimizer: bool = True, elapsed_s: float = 0.0) -> Path:
        assert self.checkpoint_path is not None
        path = self.save_checkpoint(self.checkpoint_path, with_optimizer=with_optimizer, elapsed_s=elapsed_s)
        self._saved_step, self._saved_epoch = self.step, self.epoch
        return path

    def _last_good(self) -> str:
        """Where the last checkpoint saved whole is, for a message after a failed save."""
        path = self.checkpoint_path
        if path is None or self._saved_step is None or not path.is_file():
            return "no checkpoint of this run was saved"
        return f"the last good checkpoint is {path} (epoch {self._saved_epoch}, step {self._saved_step})"

    def _best_path(self) -> Path | None:
        if self.checkpoint_path is None:
            return None
        name = self.checkpoint_path.name.removesuffix(".safetensors")
        return self.checkpoint_path.with_name(f"{name}.best.safetensors")

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
            finished = self._finish("error", f"training failed: {_describe(exc)}", with_optimizer=True)
        try:
            self._emit(finished)
        except Exception:
            log.exception("the on_event callback failed on Finished")
        return finished

    def _finish(self, reason: str, message: str, *, with_optimizer: bool, force_save: bool = False) -> Finished:
        saved: str | None = None
        if self.engine is not None:
            self.engine.sync_model()
        progressed = self.step != self._saved_step and (reason != "error" or self.step > self._start_step)
        if self.checkpoint_path is not None and self._saved_step is not None and not progressed and not force_save:
            saved = str(self.checkpoint_path)  # it holds this very state already: left as it is
        elif self.checkpoint_path is not None and self.engine is not None and (progressed or force_save):
            try:
                saved = str(self._save_latest(with_optimizer=with_optimizer, elapsed_s=self._elapsed()))
            except Exception as exc:
                if isinstance(exc, OSError):  # a full disk, a folder gone read-only: the message says it
                    log.warning("saving the checkpoint failed: %s", exc)
                else:
                    log.exception("saving the checkpoint failed")
                message += f" (saving the checkpoint failed too: {_describe(exc)}); {self._last_good()}"
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

    def _elapsed(self) -> float:
        """Training time of the whole run so far (earlier sessions of a resumed run included), pauses left out."""
        if self._session_start is None:
            return self._elapsed_before
        return self._elapsed_before + time.perf_counter() - self._session_start - self._control.paused_s

    def _run(self) -> Finished:
        """The run, step by step: set up, validate the start, train the epochs, finish."""
        engine = self._set_up()
        by_psnr = self._by_psnr
        start_score = self._score_resumed_start()
        self._emit_started(start_score)
        self._session_start = time.perf_counter()
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
                self._save_latest(elapsed_s=self._elapsed())  # a killed run resumes from here
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
        if self.checkpoint_path is not None:
            remove_dead_temp_files(self.checkpoint_path.parent)  # leftovers of killed runs' writes
        self.data = self._given_data if self._given_data is not None else load_data(self.config)
        self._noisy_psnr = self.data.noisy_psnr()  # the floor of divergence, computed once
        self.engine = engine = make_engine(self.config, self.model)
        if self.group is not None:
            data_parallel(engine, self.group)
        if self._resume_optimizer is not None:
            try:
                engine.load_optimizer_state(self._resume_optimizer)
            except (KeyError, ValueError, TypeError, IndexError, AttributeError) as exc:
                where = self._resumed.path if self._resumed is not None and self._resumed.path else "checkpoint"
                raise CheckpointError(where, f"its optimiser state does not fit the run: {exc}") from None
            engine.set_learning_rate(self.config.lr)  # the run's (possibly lowered) rate, not the saved one
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
        params = engine.parameter_tensors()
        # > 0 when resuming mid-epoch: skip the batches already trained on (same data and batches only)
        steps_per_epoch = self.data.batches_per_epoch(cfg.batch_size)
        done_in_epoch = self.step - (epoch - 1) * steps_per_epoch if self._same_batches else 0
        losses: list[float] = []
        self._apply_schedule(epoch)
        timer.restart()
        batches = self.data.epoch_batches(epoch, cfg.batch_size)
        if self.group is not None:
            batches = self.group.shard(batches)
        for index, (x, y) in enumerate(batches):
            if index < done_in_epoch:
                timer.restart()
                continue
            waited = self._control.wait_if_paused()
            if self._stop_requested():
                return self._finish("stopped", self._stopped_message(), with_optimizer=True)
            inspect = cfg.inspect_every > 0 and (self.step + 1) % cfg.inspect_every == 0
            if inspect:  # the only extra work of a run with inspect_every=0 is this test
                loss, report = engine.inspect_step(x, y, before=[t.clone() for t in params])
            else:
                loss = engine.train_step(x, y)
            step_time = timer.lap(waited)
            if not math.isfinite(loss):
                return self._diverged(f"the training loss became {loss} at step {self.step + 1} (epoch {epoch})")
            self.step += 1
            losses.append(loss)
            images = x.shape[0] * (self.group.world_size if self.group is not None else 1)
            self._emit(Step(self.step, epoch, loss, images / max(step_time, 1e-9)))
            if inspect:
                self._emit(layer_stats_event(self.model, report, self.step, epoch))
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
        assert self._session_start is not None
        session = time.perf_counter() - self._session_start - self._control.paused_s
        eta = session / (epoch - first_epoch + 1) * (self.config.epochs - epoch)
        train_loss = sum(losses) / len(losses) if losses else float("nan")
        score = self._validate(epoch, train_loss, self._elapsed(), eta)
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
        """Emit PhotoScores: the final weights on the whole validation photos (fixed noise, 8-bit).

        A stop request (e.g. the app closing) cancels it between tiles: the run is done and saved anyway.
        """
        from nnkit.denoise.tiling import Cancelled

        assert self.data is not None and self.engine is not None
        photos = list(self.data.val_photos)
        if not self.config.score_photos or not photos or (self.group is not None and not self.group.is_main):
            return
        level, noisy = noisy_photos(self.config, photos)
        self.engine.sync_model()
        try:
            event = photo_scores_event(self.model, self.epoch, level, noisy, cancel=self._control.stop_requested)
        except Cancelled:
            return
        except (RuntimeError, ValueError):  # e.g. out of memory: the run itself is still done and saved
            log.exception("scoring the whole validation photos failed")
            return
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
        best = self._best_weights
        by_psnr = self.data is None or self.data.val_clean is not None
        restored = self._restore_best_file(best.psnr) if by_psnr else None
        if restored is not None:  # an earlier session of this resumed run validated better weights
            self.epoch, self.step = restored
            kept = f"the model keeps the best validated weights (epoch {self.epoch}, {self.best_psnr:.2f} dB)"
        elif best.kept:
            best.restore_into(self.engine.parameter_tensors())
            self.engine.sync_model()
            self.epoch, self.step = best.epoch, best.step
            value = f"{best.psnr:.2f} dB" if by_psnr else f"validation loss {-best.psnr:.5f}"
            kept = f"the model keeps the best validated weights (epoch {best.epoch}, {value})"
        else:
            kept = "no validated weights to go back to"
        force = best.kept or restored is not None
        return self._finish("diverged", f"{what}: {hint}; {kept}", with_optimizer=False, force_save=force)

    def _restore_best_file(self, kept_psnr: float) -> tuple[int, int] | None:
        """Load the best checkpoint's weights when they beat those kept in memory; returns (epoch, step) or None.

        Only a resumed run can be in that case: its best checkpoint may come from an earlier session,
        validated better than anything this session saw (its starting weights included).
        """
        from nnkit.denoise.checkpoint import load_checkpoint

        path = self._best_path()
        if path is None or self.engine is None or not self.best_psnr > kept_psnr or not path.is_file():
            return None
        if self.group is not None and not self.group.is_main:
            return None
        try:
            ckpt = load_checkpoint(path)
            self.engine.load_model_state(ckpt.weights)
        except (CheckpointError, OSError, KeyError, ValueError) as exc:
            log.warning("could not go back to the best checkpoint %s: %s", path, exc)
            return None
        self.engine.sync_model()
        return ckpt.epoch, ckpt.step

    def _validate(self, epoch: int, train_loss: float, elapsed: float, eta: float) -> float:
        """Emit the epoch's Epoch and Preview events (saving the best checkpoint); returns the validation score.

        The score is the PSNR against the clean images, or, for blind-spot runs without clean
        references, the self-supervised loss on held-out hidden pixels (the best is then the lowest).
        Data-parallel: rank 0 validates and every rank gets its score, so all decide alike.
        """
        if self.group is not None and not self.group.is_main:
            return self.group.broadcast_float(float("nan"))
        score = self._validate_here(epoch, train_loss, elapsed, eta)
        return self.group.broadcast_float(score) if self.group is not None else score

    def _validate_here(self, epoch: int, train_loss: float, elapsed: float, eta: float) -> float:
        assert self.data is not None and self.engine is not None
        by_psnr = self.data.val_clean is not None
        scores = score_validation(self.engine, self.data)
        # the starting weights (epoch 0) count too: a run that only gets worse keeps them as its best
        if self._improved(scores.psnr, scores.loss, by_psnr=by_psnr):
            best = self._best_path()
            if best is not None:
                self.save_checkpoint(best, with_optimizer=False, elapsed_s=self._elapsed())
        lr = self._lr if epoch > 0 else float("nan")
        self._emit(
            Epoch(epoch, train_loss, scores.psnr, elapsed, eta, val_loss=scores.loss, val_ssim=scores.ssim, lr=lr)
        )
        self._emit(preview_event(epoch, self.data, scores.denoised))
        return scores.psnr if by_psnr else scores.loss

    def _improved(self, val_psnr: float, val_loss: float, *, by_psnr: bool) -> bool:
        """Whether this validation is the best so far (and remember it): highest PSNR, else lowest loss."""
        if by_psnr:
            if math.isfinite(val_psnr) and not val_psnr <= self.best_psnr:
                self.best_psnr = val_psnr
                return True
            return False
        if math.isfinite(val_loss) and not val_loss >= self.best_val_loss:
            self.best_val_loss = val_loss
            return True
        return False
