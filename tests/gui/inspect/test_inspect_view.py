"""The Inspect view during a real short run, its gradient check table, and a deliberately broken model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from denoise_gui.inspect.tables import BAD, GOOD
from denoise_gui.inspect.view import InspectView
from denoise_gui.main_window import INSPECT, MainWindow
from nnkit.denoise.inspection import model_for_gradcheck
from nnkit.gradcheck import deliberately_wrong
from tests.gui.conftest import TINY


def test_the_inspect_view_fills_during_a_short_run(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.tabs.setCurrentIndex(INSPECT)
    view = window.inspect_view
    window.train_view.form.set_config(TINY.replace(inspect_every=2, lockstep=True, epochs=1))
    with qtbot.waitSignal(window.train_view.sigRunFinished, timeout=60_000):
        assert window.train_view.start()
    qtbot.waitUntil(lambda: len(view.steps) == 2 and len(view.drift) == 4, timeout=10_000)
    assert view.steps == [2, 4]
    assert view.layer_combo.count() == 8 and view.selected_layer() == "inner.0"
    assert view.curves.curve_count("grad_out_norm") == 8  # every layer, the selected one on top
    assert view.curves.curve_count("weight_update_ratio") == 4  # the four convolutions have weights
    assert view.histograms.bar_count() == 2
    assert view.pipeline_table.shapes()["cols"] == "8×27×64"
    assert max(d.weight_rel_diff for d in view.drift) < 1e-3
    view.layer_combo.setCurrentIndex(1)  # a ReLU: no pipeline, its dead fraction is drawn
    qtbot.waitUntil(lambda: view.pipeline_table.rowCount() == 0, timeout=5_000)
    assert "not a convolution" in view.pipeline_label.text()


def test_the_gradient_check_table_appears_green(qtbot: Any, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    window.train_view.form.set_config(TINY)
    view = window.inspect_view
    with qtbot.waitSignal(view.sigGradcheckDone, timeout=60_000) as done:
        view.gradcheck_button.click()
    rows = done.args[0]
    assert [r.name for r in rows][:2] == ["input", "inner.0"] and len(rows) == 9
    assert view.gradcheck_table.rowCount() == 9
    assert view.gradcheck_table.colours() == [GOOD.name()] * 9
    assert "all 9 rows ok" in view.gradcheck_label.text() and "fresh report" in view.gradcheck_label.text()
    qtbot.waitUntil(lambda: view.gradcheck_button.isEnabled(), timeout=5_000)


def test_a_wrong_layer_is_the_one_red_row(qtbot: Any) -> None:
    def broken() -> Any:
        model = model_for_gradcheck("report", 3)
        deliberately_wrong(dict(model.named_modules())["inner.3"])
        return model

    view = InspectView(lambda: ("a broken report net", broken))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.sigGradcheckDone, timeout=60_000):
        assert view.run_gradcheck()
    colours = view.gradcheck_table.colours()
    assert colours.count(BAD.name()) == 1 and colours[4] == BAD.name()  # row 0 is the input, then inner.0...
    assert "1 wrong: inner.3" in view.gradcheck_label.text()
