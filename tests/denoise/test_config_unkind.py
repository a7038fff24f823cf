"""RunConfig dicts of the wrong types (settings, checkpoint metadata): a ConfigError naming the field, or a config."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.config import ConfigError, RunConfig

FIELDS = {f.name: f.type for f in dataclasses.fields(RunConfig)}
TYPES: dict[str, Any] = {"int": int, "float": (int, float), "str": str, "bool": bool}

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
plausible = st.sampled_from(
    [0, 1, -1, 2**63, 2**70, 0.5, float("nan"), float("inf"), "", "unet", "adam", "cpu", "1e-3", True, None, [], {}]
)


@settings(max_examples=300, deadline=None)
@given(
    changes=st.dictionaries(st.sampled_from(sorted(FIELDS)), anything | plausible, max_size=4),
    extra=st.dictionaries(st.text(max_size=6) | st.integers(), anything, max_size=1),
)
def test_wrong_types_give_a_config_error_naming_the_field(changes: dict[str, Any], extra: dict[Any, Any]) -> None:
    data = {**RunConfig().to_dict(), **changes, **extra}
    try:
        config = RunConfig.from_dict(data)
    except ConfigError as exc:
        assert isinstance(exc.field, str) and exc.field and str(exc).startswith(f"{exc.field}: ")
        return
    for name, kind in FIELDS.items():  # accepted: every field has its declared type
        value = getattr(config, name)
        assert isinstance(value, TYPES[str(kind)]) and (kind == "bool" or not isinstance(value, bool)), name


@pytest.mark.parametrize("data", [None, [], "unet", 3, [("arch", "unet")]])
def test_a_non_mapping_is_refused(data: Any) -> None:
    with pytest.raises(ConfigError, match="must be a mapping of settings"):
        RunConfig.from_dict(data)
