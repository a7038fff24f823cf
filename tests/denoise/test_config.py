"""RunConfig: defaults valid, every bad value named, round trips through dicts."""

from dataclasses import fields

import pytest

from nnkit.denoise import data, models
from nnkit.denoise.config import ARCHS, DATA_SOURCES, INITS, ConfigError, RunConfig
from nnkit.init import INITIALISERS


def test_defaults_are_valid_and_round_trip() -> None:
    config = RunConfig()
    assert RunConfig.from_dict(config.to_dict()) == config
    assert config.differences() == {}


def test_each_choice_list_is_the_table_that_implements_it() -> None:
    # config names the choices (it imports no implementation); each table must offer exactly those
    assert tuple(models.ARCHITECTURES) == ARCHS == RunConfig.field_choices("arch")
    assert tuple(data.LOADERS) == DATA_SOURCES == RunConfig.field_choices("data")
    assert set(INITS) <= set(INITIALISERS)  # nnkit.init offers more (xavier_normal) than a run may choose

@pytest.mark.parametrize(
    ("changes", "field_name"),
    [
        ({"lr": -1.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta2": -0.1}, "beta2"),
        ({"momentum": 1.5}, "momentum"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"epochs": True}, "epochs"),
        ({"arch": "resnet"}, "arch"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"device": "gpu"}, "device"),
        ({"device": "cuda:x"}, "device"),
        ({"noise_level": 300.0}, "noise_level"),
        ({"noise": "poisson", "noise_level": 0.0}, "noise_level"),
        ({"noise": "impulse", "noise_level": 120.0}, "noise_level"),
        ({"data": "folder"}, "data_path"),
        ({"crop_size": 2}, "crop_size"),
        ({"width": 0}, "width"),
        ({"seed": -1}, "seed"),
        ({"augment": "yes"}, "augment"),
        ({"data_path": 3}, "data_path"),
        ({"optimizer": "sgd", "nesterov": True, "momentum": 0.0}, "momentum"),
    ],
)
def test_bad_values_name_the_field(changes: dict, field_name: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig().replace(**changes)
    assert info.value.field == field_name
    assert str(info.value).startswith(field_name)


def test_unknown_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="colour"):
        RunConfig.from_dict({**RunConfig().to_dict(), "colour": "red"})


def test_differences_and_help() -> None:
    config = RunConfig(lr=0.01, optimizer="sgd")
    assert config.differences() == {"lr": 0.01, "optimizer": "sgd"}
    for f in fields(RunConfig):
        assert RunConfig.field_help(f.name), f"{f.name} has no help text"
    assert RunConfig.field_choices("arch") == ("report", "unet")
    assert RunConfig.field_choices("lr") is None
