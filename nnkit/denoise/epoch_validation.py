"""A run's validation as the trainer does it: after each epoch (events, the best) and on whole photos at the end.

The scores themselves are computed in ``nnkit.denoise.validation``; this module decides which
is the best so far, asks for the best checkpoint then, and emits the events.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import PairData
from nnkit.denoise.distributed import Group
from nnkit.denoise.engines import Engine
from nnkit.denoise.events import Epoch, Event, PhotoScores
from nnkit.denoise.tiling import CancelFn, Cancelled
from nnkit.denoise.validation import noisy_photos, photo_scores_event, preview_event, score_validation

# the trainer's logger, not this module's: denoise-train quiets that one while its summary line speaks
log = logging.getLogger("nnkit.denoise.trainer")


class BestScore:
    """The best validation so far: the highest PSNR, or (blind-spot runs without clean references) the lowest loss."""

    def __init__(self, psnr: float = float("nan")) -> None:
        self.psnr = psnr
        self.val_loss = float("nan")

    def improved(self, val_psnr: float, val_loss: float, *, by_psnr: bool) -> bool:
        """Whether this validation is the best so far (and remember it): highest PSNR, else lowest loss."""
        if by_psnr:
            if math.isfinite(val_psnr) and not val_psnr <= self.psnr:
                self.psnr = val_psnr
                return True
            return False
        if math.isfinite(val_loss) and not val_loss >= self.val_loss:
            self.val_loss = val_loss
            return True
        return False


def validate_epoch(
    engine: Engine,
    data: PairData,
    best: BestScore,
    *,
    epoch: int,
    train_loss: float,
    elapsed: float,
    eta: float,
    lr: float,
    group: Group | None,
    save_best: Callable[[], None],
    emit: Callable[[Event], None],
) -> float:
    """Emit the epoch's Epoch and Preview events (calling ``save_best`` on a new best); returns the validation score.

    The score is the PSNR against the clean images, or, for blind-spot runs without clean
    references, the self-supervised loss on held-out hidden pixels (the best is then the lowest).
    Data-parallel: rank 0 validates and every rank gets its score, so all decide alike.
    """
    if group is not None and not group.is_main:
        return group.broadcast_float(float("nan"))
    by_psnr = data.val_clean is not None
    scores = score_validation(engine, data)
    # the starting weights (epoch 0) count too: a run that only gets worse keeps them as its best
    if best.improved(scores.psnr, scores.loss, by_psnr=by_psnr):
        save_best()
    emit(Epoch(epoch, train_loss, scores.psnr, elapsed, eta, val_loss=scores.loss, val_ssim=scores.ssim, lr=lr))
    emit(preview_event(epoch, data, scores.denoised))
    score = scores.psnr if by_psnr else scores.loss
    return group.broadcast_float(score) if group is not None else score


def final_photo_scores(
    config: RunConfig,
    data: PairData,
    model: Module,
    engine: Engine,
    epoch: int,
    group: Group | None,
    cancel: CancelFn,
) -> PhotoScores | None:
    """PhotoScores of the final weights on the whole validation photos (fixed noise, 8-bit), or None.

    None when the config does not ask for them, there are no photos, this is not the main process,
    ``cancel`` (e.g. the app closing) says so between tiles, or scoring fails: the run is done
    and saved anyway.
    """
    photos = list(data.val_photos)
    if not config.score_photos or not photos or (group is not None and not group.is_main):
        return None
    level, noisy = noisy_photos(config, photos)
    engine.sync_model()
    try:
        return photo_scores_event(model, epoch, level, noisy, cancel=cancel)
    except Cancelled:
        return None
    except (RuntimeError, ValueError):  # e.g. out of memory: the run itself is still done and saved
        log.exception("scoring the whole validation photos failed")
        return None
