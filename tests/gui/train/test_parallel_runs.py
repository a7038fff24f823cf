"""A run in two local processes from the window: the same curves, no pause, clear refusals."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from denoise_gui.main_window import MainWindow
from denoise_gui.train.parallel_runs import PARALLEL_NO_PAUSE, max_processes
from tests.gui.conftest import TINY

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(max_processes() < 2, reason="needs two CPU cores or GPUs"),
]


def test_two_processes_give_the_usual_curves_and_checkpoint(
    qtbot: Any, make_window: Callable[..., MainWindow]
) -> None:
    view = make_window().train_view
    view.form.set_config(TINY)
    view.processes.setValue(2)
    with qtbot.waitSignal(view.sigRunFinished, timeout=180_000) as finished:
        assert view.start()
        assert not view.pause_button.isEnabled() and view.pause_button.toolTip() == PARALLEL_NO_PAUSE
        assert not view.processes.isEnabled()
    run = finished.args[0]
    assert run.status == "done", run.message
    assert len(run.steps) == 2 * 4 and all(math.isfinite(x) for x in run.losses)
    assert run.epochs[-1] == 2 and math.isfinite(run.best_psnr)
    assert view.curves.items[1].smooth.getData()[0] is not None
    assert Path(run.checkpoint).is_file()
    assert view.processes.isEnabled() and view.start_button.isEnabled()


def test_a_batch_that_does_not_split_is_refused_with_the_label(make_window: Callable[..., MainWindow]) -> None:
    view = make_window().train_view
    view.form.set_config(TINY.replace(batch_size=7))
    view.processes.setValue(2)
    assert not view.start()
    assert "Batch size: 7 does not split over 2 processes" in view.message.text()
    assert not view.is_running()
