"""Main window: settings remembered, status bar, checkpoint at start-up, views and shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from denoise_gui import main_window as main_window_module
from denoise_gui import window_checkpoints
from denoise_gui.main_window import DENOISE, TRAIN, MainWindow
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig


def test_settings_are_remembered(qtbot: Any, settings: AppSettings, tmp_path: Path, tiny_checkpoint: Path) -> None:
    first = MainWindow(settings, runs_dir=tmp_path / "runs", checkpoint=tiny_checkpoint)
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 580)  # the offscreen screen is 800 x 600: restored geometry is kept inside it
    saved_size = first.size()
    first.train_view.form.set_value("lr", 0.02)
    first.train_view.form.set_value("arch", "report")
    first.tabs.setCurrentIndex(DENOISE)
    first.close()

    second = MainWindow(settings, runs_dir=tmp_path / "runs")
    qtbot.addWidget(second)
    config = second.train_view.form.config()
    assert (config.lr, config.arch) == (0.02, "report")
    assert second.size().height() == saved_size.height() == 580  # width is clamped to the screen
    assert second.tabs.currentIndex() == DENOISE
    # the shipped checkpoint is the default at each launch, not whatever was loaded last time
    assert second.checkpoint_path == str(main_window_module.shipped_checkpoint())
    assert "shipped" in second.windowTitle()


def test_corrupt_settings_fall_back_to_defaults(settings: AppSettings) -> None:
    settings.qsettings.setValue("run/config", '{"lr": -1}')
    assert settings.last_config() == RunConfig()


def test_status_bar_shows_device_and_checkpoint(make_window: Callable[..., MainWindow], tiny_checkpoint: Path) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    window.train_view.form.set_value("device", "cpu")
    assert window.status.device_label.text() == "Device: CPU"
    assert "tiny.safetensors" in window.status.checkpoint_label.text()
    assert "epoch 3" in window.status.checkpoint_label.text()
    assert "tiny.safetensors" in window.windowTitle()
    assert not window.train_view.resume_check.isEnabled()  # loading to denoise is not training from it


def test_shipped_checkpoint_loaded_when_present(monkeypatch: pytest.MonkeyPatch, make_window: Callable[..., MainWindow],
                                                tiny_checkpoint: Path) -> None:
    monkeypatch.setattr(window_checkpoints, "shipped_checkpoint", lambda: tiny_checkpoint)
    window = make_window(checkpoint="default")
    assert window.checkpoint_path == str(tiny_checkpoint)


def test_missing_shipped_checkpoint_is_said_not_fatal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      make_window: Callable[..., MainWindow]) -> None:
    monkeypatch.setattr(window_checkpoints, "shipped_checkpoint", lambda: tmp_path / "absent.safetensors")
    window = make_window(checkpoint="default")
    assert window.checkpoint is None
    assert "no shipped checkpoint" in window.status.checkpoint_label.text()
    assert "No shipped checkpoint" in window.status.currentMessage()


def test_bad_checkpoint_file_gives_a_message(make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    window = make_window()
    assert not window.load_checkpoint(bad)
    assert "bad.safetensors" in window.train_view.message.text()


def test_views_switch_with_ctrl_1_and_2(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == DENOISE
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == TRAIN


def test_every_action_has_a_shortcut(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    shortcuts = {a.text(): a.shortcut().toString() for a in window.actions()}
    assert all(shortcuts.values()), shortcuts
    assert shortcuts["&Start"] == "Ctrl+R" and shortcuts["&Load checkpoint…"] == "Ctrl+L"


def test_window_fits_1280_by_720(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.resize(1280, 720)
    qtbot.wait(20)
    assert window.minimumSizeHint().width() <= 1280 and window.minimumSizeHint().height() <= 720
    view = window.train_view
    for widget in (view.start_button, view.curves.loss_plot, view.curves.psnr_plot, view.table, view.grid):
        assert widget.isVisible() and widget.width() > 50 and widget.height() > 20
