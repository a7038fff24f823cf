"""Item 1, run history: runs survive a restart, are filtered, hidden, deleted (after asking), revealed, exported."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from denoise_gui.main_window import MainWindow
from denoise_gui.train.run_library import RunLibrary
from denoise_gui.train.run_table import CHANGES, RUN
from denoise_gui.train.runs import RunRecord
from nnkit.denoise.config import RunConfig
from tests.gui.fakes import FakeTrainer


class FakeDialogs:
    """Canned answers instead of modal dialogs."""

    def __init__(self, answer: bool = True, path: str = "") -> None:
        self.answer, self.path = answer, path
        self.asked: list[str] = []
        self.revealed: list[Path] = []

    def confirm(self, title: str, text: str) -> bool:
        self.asked.append(text)
        return self.answer

    def save_path(self, title: str, default: str, filters: str) -> str:
        return self.path

    def open_path(self, title: str, start: str, filters: str) -> str:
        return self.path

    def reveal(self, folder: Path) -> bool:
        self.revealed.append(folder)
        return True


@pytest.fixture
def window_factory(qtbot: Any, make_window: Callable[..., MainWindow]) -> Callable[..., MainWindow]:
    def make() -> MainWindow:
        return make_window(trainer_factory=FakeTrainer)

    return make


def run_once(qtbot: Any, window: MainWindow, **config: Any) -> RunRecord:
    view = window.train_view
    view.form.set_config(RunConfig(**{"epochs": 2, **config}))
    with qtbot.waitSignal(view.sigRunFinished, timeout=10_000) as blocker:
        assert view.start()
    run: RunRecord = blocker.args[0]
    return run


def test_runs_are_still_there_after_a_restart(qtbot: Any, window_factory: Callable[..., MainWindow]) -> None:
    first = window_factory()
    one = run_once(qtbot, first)
    two = run_once(qtbot, first, lr=0.01)
    first.train_view.table.set_shown(two.run_id, False)
    first.close()

    second = window_factory()
    view = second.train_view
    assert view.table.rowCount() == 2
    labels = sorted(view.table.cell_text(row, RUN) for row in range(2))
    assert labels == ["run 1", "run 2"]
    restored = {run.label: run for run in view.runs.values()}
    assert restored["run 1"].steps == one.steps and restored["run 1"].psnrs == one.psnrs
    assert restored["run 1"].status == "done" and restored["run 1"].best_psnr == one.best_psnr
    assert Path(restored["run 1"].checkpoint or "").is_file()
    assert not restored["run 2"].visible and not view.table.is_shown(restored["run 2"].run_id)
    assert not restored["run 2"].metrics_loaded  # hidden runs are read only when shown
    view.table.set_shown(restored["run 2"].run_id, True)
    assert restored["run 2"].steps == two.steps
    assert view.curves.legend_labels() == ["run 1", "run 2"]
    third = run_once(qtbot, second)
    assert third.label == "run 3"  # numbering goes on across launches: names stay unique
    assert Path(third.folder).name == "run-0003"


def test_filters_by_date_and_architecture(qtbot: Any, window_factory: Callable[..., MainWindow]) -> None:
    first = window_factory()
    old = run_once(qtbot, first)
    run_once(qtbot, first, arch="report", width=8)
    first.close()
    record = Path(old.folder) / "run.json"
    data = json.loads(record.read_text())
    data["started"] = time.time() - 40 * 86_400
    record.write_text(json.dumps(data))

    view = window_factory().train_view
    panel = view.runs_panel
    assert len(view.table.shown_run_ids()) == 2
    panel.date_combo.setCurrentText("Last 30 days")
    assert [view.runs[i].label for i in view.table.shown_run_ids()] == ["run 2"]
    panel.date_combo.setCurrentText("All dates")
    panel.arch_combo.setCurrentText("unet")
    assert [view.runs[i].label for i in view.table.shown_run_ids()] == ["run 1"]


def test_delete_asks_first_and_keeps_the_run_on_no(qtbot: Any, window_factory: Callable[..., MainWindow]) -> None:
    window = window_factory()
    view = window.train_view
    run = run_once(qtbot, window)
    folder = Path(run.folder)
    view.dialogs = FakeDialogs(answer=False)
    assert not view.run_action("delete", run.run_id)
    assert folder.is_dir() and view.table.rowCount() == 1
    assert "run 1" in view.dialogs.asked[0]
    view.dialogs = FakeDialogs(answer=True)
    assert view.run_action("delete", run.run_id)
    assert not folder.exists() and view.table.rowCount() == 0 and view.curves.legend_labels() == []
    assert not list(view.runs_dir.iterdir())  # nothing half-deleted left beside


def test_reveal_export_csv_and_plots(qtbot: Any, window_factory: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = window_factory()
    view = window.train_view
    run = run_once(qtbot, window, lr=0.01)
    view.dialogs = fakes = FakeDialogs(path=str(tmp_path / "metrics.csv"))
    assert view.run_action("reveal", run.run_id) and fakes.revealed == [Path(run.folder)]
    assert view.run_action("export_csv", run.run_id)
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].split(",") == ["run", "kind", "epoch", "step", "images_seen", "wall_s", "loss", "val_psnr_db"]
    assert sum(line.split(",")[1] == "step" for line in lines) == len(run.steps) == 10
    assert sum(line.split(",")[1] == "epoch" for line in lines) == 2
    assert lines[1].split(",")[4] == str(run.config.batch_size)  # images seen after step 1
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml")):
        path = view.export_plots(tmp_path / f"plots{suffix}")
        assert path is not None and path.read_bytes().startswith(magic)
    assert "lr=0.01" in view.table.cell_text(0, CHANGES)


def test_library_skips_torn_lines_and_broken_folders(tmp_path: Path) -> None:
    library = RunLibrary(tmp_path)
    run = library.create(RunRecord(1, RunConfig()))
    assert library.flush() == []  # run.json is written on the library's writer thread
    (tmp_path / "run-0002").mkdir()  # a folder without run.json: reported, not fatal
    library.append_metrics(run, [{"event": "step", "step": 1, "epoch": 1, "loss": 0.5, "wall_s": 0.1}])
    with open(Path(run.folder) / "metrics.jsonl", "a") as handle:
        handle.write('{"event": "step", "step": 2, "lo')  # the app died mid-write
    runs = library.list_runs()
    assert [r.label for r in runs] == ["run 1"] and "run-0002" in library.problems[0]
    assert runs[0].status == "interrupted"  # it never finished
    library.load_metrics(runs[0])
    assert runs[0].steps == [1] and runs[0].losses == [0.5]
    assert library.create(RunRecord(2, RunConfig())).label == "run 3"  # never reuses a folder
    library.flush()
    assert not list(tmp_path.rglob("*.tmp"))
