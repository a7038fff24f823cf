"""The Inspect view a learner can read: its F1 section and tooltips, empty states in the form's own words, and
the layer statistics of a past run shown again after a restart (written to its metrics.jsonl as the CLI does)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg

from denoise_gui.inspect.view import InspectView
from denoise_gui.main_window import INSPECT, MainWindow
from tests.gui.conftest import TINY


def test_the_help_says_how_to_read_the_inspect_view(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    form = window.train_view.form
    text = window.show_guide().text()
    assert "How to read this window" in text and "How to read the Inspect view" in text
    for words in ("Healthy", "Exploding", "Dead", "Vanishing", "1e-3", "1e-2", "1e-5", "float32", "green row",
                  "screenshot-inspect-dead.png", "screenshot-inspect-exploding.png",
                  form.label_of("inspect_every"), form.label_of("lockstep")):
        assert words in text, words
    plots = window.inspect_view.findChildren(pg.PlotWidget)
    assert len(plots) == 6 and all("Healthy" in plot.toolTip() for plot in plots)
    tables = (window.inspect_view.gradcheck_table, window.inspect_view.pipeline_table)
    assert all(table.toolTip() for table in tables)


def test_the_empty_states_use_the_forms_labels(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    form, view = window.train_view.form, window.inspect_view
    assert f"“{form.label_of('inspect_every')}”" in view.status_label.text()
    view.lockstep.set_off(True)
    assert f"“{form.label_of('lockstep')}”" in view.lockstep.note.text()
    # built from whatever the form calls them: a renamed field renames the hint
    renamed = InspectView(field_label=lambda name: f"<{name} label>")
    qtbot.addWidget(renamed)
    renamed.lockstep.set_off(True)
    assert "“<inspect_every label>”" in renamed.status_label.text()
    assert "“<lockstep label>”" in renamed.lockstep.note.text()


def test_layer_stats_of_a_past_run_show_again_after_a_restart(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    window.train_view.form.set_config(TINY.replace(inspect_every=2, lockstep=True, epochs=1))
    with qtbot.waitSignal(window.train_view.sigRunFinished, timeout=60_000):
        assert window.train_view.start()
    live = window.inspect_view
    qtbot.waitUntil(lambda: len(live.steps) == 2 and len(live.drift) == 4, timeout=10_000)
    run = window.train_view.current or window.train_view.last_run_with_checkpoint()
    assert run is not None
    window.train_view.table.select_run(run.run_id)  # the run shown live keeps its histograms (not stored)
    assert live.latest is not None and live.histograms.bar_count() == 2
    window.close()

    records = [json.loads(line) for line in (Path(run.folder) / "metrics.jsonl").read_text().splitlines()]
    layers = [r for r in records if r["event"] == "layers"]
    assert [r["step"] for r in layers] == [2, 4] and set(layers[0]) == {"event", "step", "layers"}  # as the CLI
    assert len([r for r in records if r["event"] == "lockstep"]) == 4

    again = make_window()  # a new window on the same runs folder, as after a restart
    again.tabs.setCurrentIndex(INSPECT)
    view = again.inspect_view
    assert view.steps == [2, 4] and view.layer_combo.count() == 8
    assert set(view.history) == set(live.history)
    assert view.history["inner.0"]["grad_out_norm"] == live.history["inner.0"]["grad_out_norm"]
    assert [d.weight_rel_diff for d in view.drift] == [d.weight_rel_diff for d in live.drift]
    assert "(stored)" in view.status_label.text()
    qtbot.waitUntil(lambda: view.curves.curve_count("grad_out_norm") == 8, timeout=5_000)
