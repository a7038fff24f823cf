"""Real short runs in the window (tiny configs): curves, progress, grid, overlay, pause/resume/stop, close."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from denoise_gui.main_window import MainWindow
from denoise_gui.train.run_table import BEST
from tests.gui.conftest import TINY

pytest.importorskip("nnkit.denoise.trainer")


def start(window: MainWindow, **changes: Any) -> None:
    window.train_view.form.set_config(TINY.replace(**changes))
    assert window.train_view.start()


def test_short_run_updates_everything_and_a_second_run_overlays(
    qtbot: Any, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    view = window.train_view
    with qtbot.waitSignal(view.sigRunFinished, timeout=60_000) as finished:
        start(window)
    run = finished.args[0]
    assert run.status == "done", run.message
    assert len(run.steps) == 2 * 4 and all(math.isfinite(x) for x in run.losses)
    assert run.epochs[-1] == 2 and math.isfinite(run.best_psnr)
    assert view.curves.items[1].smooth.getData()[0] is not None
    assert view.progress.bar.value() == view.progress.bar.maximum() == 8
    assert "Epoch 2/2" in view.progress.label.text() or "done" in view.progress.label.text()
    assert len(view.grid.captions()) >= 1 and all(c.endswith("dB") for c in view.grid.captions())
    assert Path(run.checkpoint).is_file()
    assert "dB" in view.table.cell_text(0, BEST)
    assert view.use_button.isEnabled()
    view.use_button.click()  # the run's checkpoint now denoises
    assert window.checkpoint_path == run.checkpoint and window.tabs.currentIndex() == 1
    window.tabs.setCurrentIndex(0)

    with qtbot.waitSignal(view.sigRunFinished, timeout=60_000):
        start(window, epochs=1, lr=3e-3)
    assert view.curves.legend_labels() == ["run 1", "run 2"]
    assert view.table.rowCount() == 2
    assert view.runs[2].config.lr == 3e-3


def test_pause_resume_and_stop(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    view = window.train_view
    start(window, epochs=20)
    qtbot.waitUntil(lambda: len(view.runs[1].steps) >= 1, timeout=30_000)
    view.toggle_pause()
    assert view.pause_button.text() == "Resume" and view.runs[1].status == "paused"
    qtbot.wait(1200)  # a step in flight may still land
    paused_at = len(view.runs[1].steps)
    qtbot.wait(1000)
    assert len(view.runs[1].steps) == paused_at
    view.toggle_pause()
    qtbot.waitUntil(lambda: len(view.runs[1].steps) > paused_at, timeout=30_000)
    with qtbot.waitSignal(view.sigRunFinished, timeout=30_000):
        view.stop()
    assert view.runs[1].status == "stopped"
    assert view.start_button.isEnabled() and view.form.isEnabled()


def test_shortcuts_start_and_stop(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.train_view.form.set_config(TINY.replace(epochs=20))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.train_view.is_running()
    with qtbot.waitSignal(window.train_view.sigRunFinished, timeout=30_000):
        qtbot.keyClick(window, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)


def test_closing_mid_run_stops_the_worker_quickly(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    view = window.train_view
    start(window, epochs=20)
    qtbot.waitUntil(lambda: len(view.runs[1].steps) >= 2, timeout=30_000)
    job = view.job
    assert job is not None
    began = time.monotonic()
    window.close()
    took = time.monotonic() - began
    assert not job.qthread.isRunning()
    assert took < 1.5, f"closing took {took:.2f} s"
    leftovers = [p for p in view.runs_dir.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []  # no half-written file
    assert (view.runs_dir / "run-0001" / "checkpoint.safetensors").is_file()


def test_a_diverging_run_says_so_and_the_app_stays_usable(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    view = window.train_view
    with qtbot.waitSignal(view.sigRunFinished, timeout=60_000) as finished:
        start(window, arch="unet", epochs=1, optimizer="sgd", lr=100.0, momentum=0.9)
    run = finished.args[0]
    assert run.status == "diverged", run.message
    assert "diverged" in view.message.text() and "learning rate" in view.message.text()
    assert "d62728" in view.message.styleSheet()
    assert view.start_button.isEnabled() and view.form.isEnabled()


def test_resume_from_a_run_checkpoint(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    view = window.train_view
    with qtbot.waitSignal(view.sigRunFinished, timeout=60_000) as finished:
        start(window, epochs=1)
    first = finished.args[0]
    assert view.run_action("train_from", first.run_id)
    assert window.status.device_label.text() == "Device: CPU"
    assert view.form.config() == first.config and view.resume_check.isChecked()
    view.form.set_value("epochs", 2)
    with qtbot.waitSignal(view.sigRunFinished, timeout=60_000) as finished:
        assert view.start()
    second = finished.args[0]
    assert second.status == "done", second.message
    assert second.steps[0] == first.steps[-1] + 1  # continued, not restarted
    assert second.epochs[-1] == 2
