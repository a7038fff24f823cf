"""Train view logic with a fake trainer (fast): overlay, table, hiding, divergence, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from denoise_gui.train.run_table import BEST, CHANGES
from denoise_gui.train.view import TrainView
from nnkit.denoise.config import RunConfig
from tests.gui.fakes import FakeTrainer


def make_view(qtbot: Any, tmp_path: Path, **config: Any) -> TrainView:
    view = TrainView(tmp_path / "runs", RunConfig(**{"epochs": 2, **config}), trainer_factory=FakeTrainer)
    qtbot.addWidget(view)
    view.show()
    return view


def run_once(qtbot: Any, view: TrainView) -> Any:
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000) as blocker:
        assert view.start()
    return blocker.args[0]


def test_runs_overlay_and_fill_the_table(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path)
    first = run_once(qtbot, view)
    view.form.set_value("lr", 0.01)
    second = run_once(qtbot, view)
    assert (first.status, second.status) == ("done", "done")
    assert view.curves.legend_labels() == ["run 1", "run 2"]
    assert view.table.rowCount() == 2
    assert "lr=0.01" in view.table.cell_text(1, CHANGES)
    assert view.table.cell_text(0, BEST) == "22.00 dB"
    assert len(first.steps) == 10 and first.psnrs == [21.0, 22.0]
    assert view.grid.captions() == ["22.00 dB", "22.00 dB"]
    assert Path(second.checkpoint).exists()


def test_choosing_a_run_leaves_the_form_copying_its_settings_is_explicit(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path, width=8)
    run_once(qtbot, view)
    view.form.set_value("width", 16)
    view.table.select_run(1)
    assert view.form.config().width == 16
    assert view.run_action("copy_settings", 1)
    assert view.form.config().width == 8


def test_hiding_a_run_hides_its_curves(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path)
    run_once(qtbot, view)
    run_once(qtbot, view)
    view.table.set_shown(1, False)
    items = view.curves.items[1]
    assert not items.smooth.isVisible() and not items.psnr.isVisible()
    assert view.curves.legend_labels() == ["run 2"]
    view.table.set_shown(1, True)
    assert items.smooth.isVisible()
    assert sorted(view.curves.legend_labels()) == ["run 1", "run 2"]


def test_diverging_run_says_so_and_the_app_stays_usable(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path, optimizer="sgd", lr=10.0)
    run = run_once(qtbot, view)
    assert run.status == "diverged"
    assert "diverged" in view.message.text() and "learning rate" in view.message.text()
    assert view.start_button.isEnabled() and view.form.isEnabled()
    view.form.set_value("lr", 0.01)
    assert run_once(qtbot, view).status == "done"


def test_invalid_form_blocks_start(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path)
    view.form.set_value("data", "folder")
    assert not view.start_button.isEnabled()
    assert not view.start()
    assert "folder" in view.message.text() and "data_path" not in view.message.text()
    assert view.runs == {}


def test_save_checkpoint_after_a_run_copies_it(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path)
    assert not view.save_checkpoint(tmp_path / "none.safetensors")
    run_once(qtbot, view)
    target = tmp_path / "mine.safetensors"
    assert view.save_checkpoint(target)
    assert target.read_bytes() == b"fake"


def test_form_is_locked_while_running(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path, epochs=50)
    assert view.start()
    assert not view.form.isEnabled() and not view.start_button.isEnabled() and view.stop_button.isEnabled()
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000):
        view.stop()
    assert view.form.isEnabled() and view.runs[1].status == "stopped"


def test_save_while_running_is_done_by_the_worker(qtbot: Any, tmp_path: Path) -> None:
    view = make_view(qtbot, tmp_path, epochs=50)
    assert view.start()
    qtbot.waitUntil(lambda: len(view.runs[1].steps) > 0, timeout=5000)
    target = tmp_path / "live.safetensors"
    assert view.job is not None
    with qtbot.waitSignal(view.job.sigSaved, timeout=5000):
        view.save_checkpoint(target)
    assert target.read_bytes() == b"fake"
    qtbot.waitUntil(lambda: "saved" in view.message.text(), timeout=5000)
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000):
        view.stop()


def test_a_loaded_checkpoint_can_be_resumed(qtbot: Any, tmp_path: Path) -> None:
    seen: list[Any] = []

    def factory(config: RunConfig, on_event: Any, **kwargs: Any) -> FakeTrainer:
        seen.append(kwargs["resume_from"])
        return FakeTrainer(config, on_event, **kwargs)

    view = TrainView(tmp_path / "runs", RunConfig(epochs=1), trainer_factory=factory)
    qtbot.addWidget(view)
    checkpoint = type("Ckpt", (), {"config": RunConfig(arch="report", width=4, epochs=3), "epoch": 2})()
    assert view.train_from_checkpoint(checkpoint, "/somewhere/ckpt.safetensors")
    assert view.form.config() == checkpoint.config
    assert view.resume_check.isEnabled() and "epoch 2" in view.resume_check.text()
    assert view.resume_check.isChecked()
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000):
        view.start()
    view.resume_check.setChecked(False)
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000):
        view.start()
    assert seen == [checkpoint, None]


def test_worker_signals_are_handled_on_the_gui_thread(qtbot: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from PySide6.QtCore import QThread

    from denoise_gui.train.curves import CurvesPanel
    from denoise_gui.train.preview_grid import PreviewGrid

    gui = QThread.currentThread()
    threads: set[bool] = set()
    show_preview, update_run = PreviewGrid.show_preview, CurvesPanel.update_run

    def spy_preview(self: PreviewGrid, preview: Any) -> None:
        threads.add(QThread.currentThread() == gui)
        show_preview(self, preview)

    def spy_curves(self: CurvesPanel, run: Any) -> None:
        threads.add(QThread.currentThread() == gui)
        update_run(self, run)

    monkeypatch.setattr(PreviewGrid, "show_preview", spy_preview)
    monkeypatch.setattr(CurvesPanel, "update_run", spy_curves)
    view = make_view(qtbot, tmp_path)
    run_once(qtbot, view)
    assert threads == {True}
