"""The run form is a view of RunConfig: round trip, validation message, dependent fields."""

from __future__ import annotations

from typing import Any

import pytest

from denoise_gui.train.run_form import RunForm
from nnkit.denoise.config import RunConfig


@pytest.fixture
def form(qtbot: Any) -> RunForm:
    widget = RunForm()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_defaults_round_trip(form: RunForm) -> None:
    assert form.config() == RunConfig()
    assert form.error_label.text() == ""


def test_every_field_has_an_editor_with_help(form: RunForm) -> None:
    for name, editor in form.editors.items():
        assert editor.toolTip().startswith(RunConfig.field_help(name))
    assert set(form.editors) == set(RunConfig().to_dict())


def test_set_config_shows_a_non_default_config(form: RunForm) -> None:
    config = RunConfig(arch="report", width=8, optimizer="sgd", lr=0.05, momentum=0.5, nesterov=True,
                       noise="poisson", noise_level=30.0, loss="l1", seed=7, augment=False, eps=1e-6)
    form.set_config(config)
    assert form.config() == config


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [("noise_level", 300.0, "noise_level"), ("batch_size", 0, "batch_size"), ("data", "folder", "data_path"),
     ("width", 0, "width")],
)
def test_invalid_values_say_why_in_the_forms_words(form: RunForm, name: str, value: Any, field: str) -> None:
    with_signal: list[Any] = []
    form.sigChanged.connect(with_signal.append)
    form.set_value(name, value)
    assert not form.is_valid()
    text = form.error_label.text()
    assert form.label_of(field) in text  # the label the user sees, e.g. 'Batch size'
    assert f"{field}:" not in text and f"{field}=" not in text
    assert with_signal[-1] is None
    assert "d62728" in form.editors[field].styleSheet()


def test_fields_that_do_not_apply_are_disabled_saying_why_never_hidden(form: RunForm) -> None:
    assert form.editors["beta1"].isEnabled() and not form.editors["momentum"].isEnabled()
    assert "Only for SGD" in form.editors["momentum"].toolTip()
    form.set_value("optimizer", "sgd")
    assert form.editors["momentum"].isEnabled() and form.editors["nesterov"].isEnabled()
    assert not form.editors["beta2"].isEnabled() and "Only for Adam" in form.editors["beta2"].toolTip()
    assert all(form.row_visible(name) for name in form.editors)
    assert not form.applies("data_path") and "the data is builtin" in form.editors["data_path"].toolTip()


def test_cuda_graph_is_disabled_on_a_machine_without_cuda(form: RunForm, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from denoise_gui.train import form_rules

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    form_rules.has_cuda.cache_clear()
    try:
        form.set_value("seed", 3)  # any change re-checks the rules
        editor = form.editors["cuda_graph"]
        assert not editor.isEnabled() and "No CUDA GPU on this machine" in editor.toolTip()
        assert form.config().seed == 3  # the form stays valid
    finally:
        form_rules.has_cuda.cache_clear()


def test_numbers_are_written_plainly(form: RunForm) -> None:
    texts = {name: form.editors[name].text() for name in ("beta1", "beta2", "weight_decay", "noise_level")}
    assert texts == {"beta1": "0.9", "beta2": "0.999", "weight_decay": "0", "noise_level": "25"}


def test_labels_line_up_across_groups(form: RunForm) -> None:
    lefts = {form.editors[name].mapTo(form, form.editors[name].rect().topLeft()).x()
             for name in ("arch", "optimizer", "engine")}
    assert len(lefts) == 1  # one column: Model, Optimiser and Compute fields start at the same x


def test_noise_level_label_follows_the_noise_model(form: RunForm) -> None:
    labels = {}
    for noise in ("gaussian", "poisson", "impulse"):
        form.set_value("noise", noise)
        labels[noise] = form._labels["noise_level"].text()
    assert len(set(labels.values())) == 3
    assert "255" in labels["gaussian"]


def test_learning_rate_steps_on_a_log_scale(form: RunForm) -> None:
    spin = form.editors["lr"].spin  # type: ignore[attr-defined]
    spin.setValue(1e-3)
    spin.stepBy(4)
    assert form.config().lr == pytest.approx(1e-2)
    form.editors["lr"].slider.setValue(-40)  # type: ignore[attr-defined]
    assert form.config().lr == pytest.approx(1e-4)


def test_data_folders_must_exist(form: RunForm, tmp_path: Any) -> None:
    form.set_value("data", "folder")
    form.set_value("data_path", str(tmp_path / "absent"))
    assert not form.is_valid() and "no folder" in form.error_label.text()
    form.set_value("data_path", str(tmp_path))
    assert form.is_valid()
    form.set_value("data", "course")
    assert not form.is_valid() and "train_data.pkl" in form.error_label.text()
    for name in ("train_data.pkl", "val_data.pkl"):
        (tmp_path / name).write_bytes(b"")
    form.set_value("data_path", str(tmp_path))
    assert form.is_valid()


def test_dead_leaves_data_needs_no_folder_and_the_mix_is_a_data_setting(form: RunForm) -> None:
    assert form.applies("dead_leaves_mix") and not form.applies("data_path")
    form.set_value("dead_leaves_mix", 0.25)
    assert form.is_valid() and form.config().dead_leaves_mix == 0.25
    form.set_value("dead_leaves_mix", 0.0)
    form.set_value("data", "deadleaves")
    assert form.is_valid() and form.config().data == "deadleaves"
    assert not form.applies("data_path") and not form.applies("dead_leaves_mix")
    assert not form.editors["dead_leaves_mix"].isEnabled() and "deadleaves" in form.editors["dead_leaves_mix"].toolTip()


def test_the_learning_rate_slider_is_wide_enough_to_use(qtbot: Any, make_window: Any) -> None:
    """It had ~20 px for 8 decades beside the number; below it, it has the editor's width, and the form still fits."""
    from denoise_gui.widgets.log_spin import LogValueEdit

    window = make_window()
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280 and window.height() == 720, timeout=2000)
    qtbot.wait(50)
    editor = window.train_view.form.editors["lr"]
    assert isinstance(editor, LogValueEdit)
    assert editor.slider.width() >= LogValueEdit.SLIDER_MIN_WIDTH and editor.slider.width() >= editor.spin.width()
    assert editor.slider.y() > editor.spin.y()
    editor.slider.setValue(editor.slider.minimum())
    assert editor.value() == pytest.approx(1e-6)
    scroll = window.train_view.form.parentWidget().parentWidget()
    assert scroll.verticalScrollBar().maximum() == 0
