"""Item 2, checkpoints without surprises: loading one to denoise never touches the form; training from one is
explicit; the shipped checkpoint is the default and the active one is always named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from denoise_gui import window_checkpoints
from denoise_gui.main_window import TRAIN, MainWindow
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig


def test_loading_a_checkpoint_leaves_the_form_and_the_remembered_settings(
    qtbot: Any, make_window: Callable[..., MainWindow], settings: AppSettings, tiny_checkpoint: Path
) -> None:
    window = make_window()
    form = window.train_view.form
    mine = RunConfig(lr=0.02, epochs=7, crop_size=40)
    form.set_config(mine)
    assert window.load_checkpoint(tiny_checkpoint)  # arch=report width=4 epoch 3: none of it goes to the form
    assert form.config() == mine
    assert not window.train_view.resume_check.isChecked()
    assert "tiny.safetensors" in window.windowTitle() and "tiny.safetensors" in window.denoise_view.model_label.text()
    window.close()
    assert settings.last_config() == mine  # and nothing of the checkpoint carries over to the next launch


def test_train_from_a_checkpoint_is_an_explicit_action(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path
) -> None:
    from tests.gui.train.test_run_library import FakeDialogs

    window = make_window()
    view = window.train_view
    view.dialogs = FakeDialogs(path=str(tiny_checkpoint))
    window.tabs.setCurrentIndex(1)
    window.train_from_action.trigger()
    assert window.tabs.currentIndex() == TRAIN
    assert (view.form.config().arch, view.form.config().width) == ("report", 4)
    assert view.resume_check.isChecked() and "epoch 3" in view.resume_check.text()
    assert window.checkpoint is None  # training from it is not denoising with it


def test_the_shipped_checkpoint_is_the_default_and_named(
    monkeypatch: pytest.MonkeyPatch, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(window_checkpoints, "shipped_checkpoint", lambda: tiny_checkpoint)
    other = tmp_path / "other.safetensors"
    other.write_bytes(tiny_checkpoint.read_bytes())
    first = make_window(checkpoint="default")
    assert "shipped" in first.windowTitle() and "shipped" in first.status.checkpoint_label.text()
    assert first.load_checkpoint(other)
    assert "other.safetensors" in first.windowTitle() and "shipped" not in first.windowTitle()
    first.close()
    second = make_window(checkpoint="default")
    assert second.checkpoint_path == str(tiny_checkpoint)  # a new launch starts from the shipped one again
    assert second.load_checkpoint(other) and second.use_shipped_checkpoint()
    assert second.checkpoint_path == str(tiny_checkpoint)


def test_results_are_labelled_by_run(qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path,
                                     tmp_path: Path, photo: Path) -> None:
    """Every run's file is checkpoint.safetensors: its results are told apart by run, epoch and best PSNR."""
    import shutil

    runs = tmp_path / "runs"
    four, seven = runs / "run-0004" / "checkpoint.safetensors", runs / "run-0007" / "checkpoint.best.safetensors"
    for path in (four, seven):
        path.parent.mkdir(parents=True)
        shutil.copyfile(tiny_checkpoint, path)
    window = make_window(checkpoint=four, runs_dir=runs)
    view = window.denoise_view
    assert view.model_label.text() == "Model: run 4 · epoch 3 · 21.50 dB"
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    assert window.load_checkpoint(seven)
    assert view.model_label.text() == "Model: run 7 (best) · epoch 3 · 21.50 dB"
    assert "run 7" in window.windowTitle() and "run 7" in window.status.checkpoint_label.text()
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        view.redenoise_all()
    results = [view.result_combo.itemText(i) for i in range(view.result_combo.count())]
    assert results == ["1. run 4 · epoch 3 · 21.50 dB", "2. run 7 (best) · epoch 3 · 21.50 dB"]
    assert window.load_checkpoint(tiny_checkpoint)  # a file from elsewhere keeps its name
    assert view.model_label.text() == "Model: tiny.safetensors · epoch 3 · 21.50 dB"
