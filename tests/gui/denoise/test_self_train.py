"""Denoise view, "Train on these photos": a blind-spot run on the open photos, then they are denoised with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from denoise_gui.denoise.self_train import START_TEXT, STOP_TEXT, blindspot_config
from denoise_gui.main_window import MainWindow
from nnkit.denoise.checkpoint import load_checkpoint
from tests.gui.conftest import TINY

FAST = TINY.replace(epochs=1, epoch_size=16)


def test_train_on_these_photos_then_their_denoised_result_appears(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, photo: Path, tmp_path: Path
) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    view, panel = window.denoise_view, window.self_train
    panel.base_config = FAST
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    first_model = view.model_name
    original = photo.read_bytes()
    assert panel.button.text() == START_TEXT and panel.button.isVisible()
    steps: list[object] = []
    eta_texts: list[str] = []
    with qtbot.waitSignals([panel.sigTrained, view.sigBatchFinished], timeout=60_000):
        panel.button.click()
        assert panel.button.text() == STOP_TEXT and panel.progress.isVisible()
        panel.job.sigStep.connect(steps.append)  # type: ignore[union-attr]
        panel.job.sigStep.connect(lambda _steps: eta_texts.append(panel.progress.text()))  # type: ignore[union-attr]
    assert steps  # the live loss arrived while it trained
    assert "left" in eta_texts[-1] and "–" not in eta_texts[-1]  # the progress bar says the time left
    assert panel.label.text() == "trained: denoising…"
    assert panel.last_finished is not None and panel.last_finished.reason == "done"
    assert panel.button.text() == START_TEXT and not panel.progress.isVisible()
    # the run trained on a copy of the open photo, blind-spot, nothing added
    folder = panel.run_folder
    assert folder is not None and folder.parent == tmp_path / "runs"
    assert [p.name for p in (folder / "photos").iterdir()] == ["000-photo.png"]
    config = load_checkpoint(folder / "checkpoint.safetensors").config
    assert (config.target, config.noise, config.data) == ("self", "none", "folder")
    assert photo.read_bytes() == original
    # the photo now holds a second result, made by the new model, and it is the one shown
    item = view.items[str(photo)]
    run = next(r for r in window.train_view.runs.values() if r.folder == str(folder))
    assert view.model_name != first_model and view.model_name.startswith(run.label)
    assert "blind-spot · epoch 1" in view.model_name
    assert item.result_by(first_model) is not None
    result = item.result_by(view.model_name)
    assert result is not None and result.done and result.image.shape == (40, 48, 3)
    assert item.shown_result() is result and item.denoised is result.image
    assert view.compare.right_canvas.left is not None


def test_without_photos_nothing_starts(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path
) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    messages: list[str] = []
    window.self_train.sigStatus.connect(messages.append)
    assert not window.self_train.start()
    assert window.self_train.job is None and messages and "Open photos first" in messages[-1]


def test_stop_keeps_what_was_learned(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, photo: Path
) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    panel = window.self_train
    panel.base_config = TINY.replace(epochs=200)
    with qtbot.waitSignal(window.denoise_view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    with qtbot.waitSignal(panel.sigTrained, timeout=60_000):
        assert panel.start()
        qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30_000)
        panel.button.click()  # Stop training
    assert panel.last_finished is not None and panel.last_finished.reason == "stopped"
    assert blindspot_config(TINY, Path("x")).target == "self"


def test_its_run_is_in_the_run_table_and_library_and_the_strength_is_stated(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, photo: Path, tmp_path: Path
) -> None:
    """Its run was in no table and the Strength slider applied to its result silently."""
    from denoise_gui.train.run_library import RunLibrary

    window = make_window(checkpoint=tiny_checkpoint)
    view, panel, train = window.denoise_view, window.self_train, window.train_view
    panel.base_config = FAST
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    view.noise.set_strength(0.6)
    messages: list[str] = []
    panel.sigStatus.connect(messages.append)
    before = set(train.runs)
    with qtbot.waitSignals([panel.sigTrained, view.sigBatchFinished], timeout=60_000):
        assert panel.start()
        assert "at strength 60% (the Strength slider)" in messages[-1]
        (new,) = set(train.runs) - before
        run = train.runs[new]
        assert panel.run_folder == Path(run.folder) and train.table.row_of(new) >= 0
    assert "at strength 60%" in messages[-1]
    assert run.status == "done" and run.steps and run.checkpoint == str(panel.run_folder / "checkpoint.safetensors")
    assert run.config.target == "self"
    train.flush_library()
    (stored,) = [r for r in RunLibrary(tmp_path / "runs").list_runs() if r.folder == run.folder]
    assert stored.status == "done" and stored.config.target == "self"  # in the table again after a restart
    assert view.current_item().shown_result().model.endswith("strength 60%")  # type: ignore[union-attr]
