"""Checkpoints are checked before use: dtypes, values, a probe forward, every metadata field, shapes before building."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnkit.denoise.checkpoint import Checkpoint, CheckpointError, load_checkpoint, model_from_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.inference import Denoiser
from tests.denoise.checkpoint_files import SMALL, read_raw, rewrite, valid_checkpoint


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return valid_checkpoint(tmp_path_factory.mktemp("ckpt") / "valid.safetensors").read_bytes()


def weights_of(path: Path) -> dict[str, torch.Tensor]:
    return {k: v for k, v in read_raw(path)[1].items() if k.startswith("model.")}


def test_integer_weights_are_refused(tmp_path: Path) -> None:
    """Before: int64 weights were accepted and 'denoised' photos into their input."""
    path = valid_checkpoint(tmp_path / "c.safetensors")
    rewrite(path, tensors={k: v.round().to(torch.int64) for k, v in weights_of(path).items()})
    with pytest.raises(CheckpointError, match=r"dtype torch\.int64, not floating point") as info:
        load_checkpoint(path)
    assert str(path) in str(info.value)


def test_huge_weights_are_refused_by_the_probe(tmp_path: Path) -> None:
    """Before: weights of 3e38 loaded and turned every photo black."""
    path = valid_checkpoint(tmp_path / "c.safetensors")
    rewrite(path, tensors={k: torch.full_like(v, 3e38) for k, v in weights_of(path).items()})
    with pytest.raises(CheckpointError, match="test image"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="test image"):
        Denoiser.from_checkpoint(path, device="cpu")


def test_a_constant_output_is_refused(tmp_path: Path) -> None:
    config = RunConfig(arch="report", width=4, device="cpu")
    path = valid_checkpoint(tmp_path / "c.safetensors", config)
    rewrite(path, tensors={k: torch.zeros_like(v) for k, v in weights_of(path).items()})
    with pytest.raises(CheckpointError, match="same value"):
        load_checkpoint(path)


def test_shapes_are_compared_before_any_model_is_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: metadata claiming width 1024 made the loader build that 4 GB network, then report the mismatch."""
    import nnkit.denoise.models as models

    path = valid_checkpoint(tmp_path / "c.safetensors")
    meta, _ = read_raw(path)
    config = json.loads(meta["config"])
    rewrite(path, metadata={"config": json.dumps({**config, "width": 1024})})
    real_build = models.build_architecture

    def guarded(arch: str, width: int, *args: object, **kwargs: object) -> object:
        if width == 1024:  # only allowed as shapes: on the meta device, which allocates nothing
            assert torch.empty(0).device.type == "meta", "the width-1024 network was really built"
        return real_build(arch, width, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(models, "build_architecture", guarded)
    with pytest.raises(CheckpointError, match="weights do not fit arch='unet' width=1024"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("best_psnr", "[1, 2]", "'best_psnr' must be a finite number or null"),
        ("best_psnr", '"high"', "'best_psnr' must be a finite number or null"),
        ("best_psnr", "nope", "'best_psnr' is not valid JSON"),
        ("best_psnr", None, "lacks 'best_psnr'"),
        ("elapsed_s", "-5", "'elapsed_s' must be at least 0"),
        ("epoch", "-1", "'epoch' must be between 0"),
        ("epoch", "1.5", "'epoch' is not an integer"),
        ("step", str(2**70), "'step' must be between 0"),
        ("format_version", "two", "'format_version' is not an integer"),
        ("format_version", "0", "'format_version' must be at least 1"),
        ("format_version", "99", "newer than this program"),
        ("kind", "something else", "not a denoise-gui checkpoint"),
        ("config", "[]", "'config' is not a JSON object"),
        ("config", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("optim", '"adam"', "'optim' must be an object"),
        ("optim", '{"param_groups": 3}', "'param_groups' must be a list of objects"),
        ("optim", '{"param_groups": [{"lr": {"a": 1}}]}', "not numbers, text or lists"),
        ("optim", '{"scalars": {"x": 1}}', "'scalars' must map parameter numbers"),
        ("optim", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_every_metadata_field_is_validated(tmp_path: Path, field: str, value: str | None, message: str) -> None:
    """Before: a list or text as best_psnr, malformed optimiser state or deep JSON gave tracebacks."""
    path = rewrite(valid_checkpoint(tmp_path / "c.safetensors"), metadata={field: value})  # type: ignore[dict-item]
    with pytest.raises(CheckpointError, match=message.replace("[", r"\[").replace("(", r"\(")) as info:
        load_checkpoint(path)
    assert str(info.value).startswith(str(path))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("width", '"32"', "width: must be an integer"),
        ("lr", "null", "lr: must be a finite number"),
        ("arch", "[1]", "arch: \\[1\\] is not one of"),
        ("augment", '"yes"', "augment: must be true or false"),
        ("seed", str(2**70), "seed: must be between 0 and 2\\*\\*63"),
        ("colour", '"red"', "colour: unknown setting"),
    ],
)
def test_config_fields_of_the_wrong_type_name_the_field(tmp_path: Path, key: str, value: str, message: str) -> None:
    path = valid_checkpoint(tmp_path / "c.safetensors")
    config = json.loads(read_raw(path)[0]["config"])
    config[key] = json.loads(value)
    rewrite(path, metadata={"config": json.dumps(config)})
    with pytest.raises(CheckpointError, match="metadata 'config' field " + message):
        load_checkpoint(path)


def test_unreadable_files_and_folders_say_what_they_are(tmp_path: Path) -> None:
    """Before: an unreadable checkpoint was 'corrupt … No such file or directory', a folder 'does not exist'."""
    with pytest.raises(CheckpointError, match="is a folder, not a checkpoint file"):
        Denoiser.from_checkpoint(tmp_path, device="cpu")
    path = valid_checkpoint(tmp_path / "c.safetensors")
    path.chmod(0)
    try:
        if os_can_read(path):
            pytest.skip("running as a user who reads any file (root)")
        with pytest.raises(CheckpointError, match="cannot be read: Permission denied"):
            load_checkpoint(path)
    finally:
        path.chmod(0o644)


def os_can_read(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def check_loaded(ckpt: Checkpoint) -> None:
    """What a 'correct load' means: a usable model of finite float weights whose output is finite."""
    model = model_from_checkpoint(ckpt)
    assert all(p.data.is_floating_point() and bool(torch.isfinite(p.data).all()) for p in model.parameters())
    assert bool(torch.isfinite(model.forward(torch.rand(1, 3, 16, 16))).all())
    assert ckpt.epoch >= 0 and ckpt.step >= 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bytes_give_a_clear_error_or_a_correct_load(
    valid_bytes: bytes, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    blob = bytearray(valid_bytes)
    how = data.draw(st.sampled_from(["flip", "truncate", "splice"]))
    if how == "truncate":
        blob = blob[: data.draw(st.integers(0, len(blob) - 1))]
    elif how == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            # the 8-byte header length and the JSON header are where parsers break; the tensors follow
            at = data.draw(st.one_of(st.integers(0, min(len(blob) - 1, 600)), st.integers(0, len(blob) - 1)))
            blob[at] = data.draw(st.integers(0, 255))
    else:
        at = data.draw(st.integers(0, len(blob)))
        blob[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    path = tmp_path_factory.mktemp("mutant") / "m.safetensors"
    path.write_bytes(bytes(blob))
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
        return
    check_loaded(ckpt)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
METADATA_KEYS = [
    "kind", "format_version", "nnkit_version", "config", "epoch", "step", "best_psnr", "optim", "elapsed_s"
]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_metadata_gives_a_clear_error_or_a_correct_load(
    valid_bytes: bytes, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    path = tmp_path_factory.mktemp("meta") / "m.safetensors"
    path.write_bytes(valid_bytes)
    meta, _ = read_raw(path)
    key = data.draw(st.sampled_from(METADATA_KEYS))
    if key == "config" and data.draw(st.booleans()):  # one setting of the config replaced
        config = json.loads(meta["config"])
        config[data.draw(st.sampled_from(sorted(config)))] = data.draw(json_values)
        value: str | None = json.dumps(config)
    else:
        value = data.draw(
            st.none() | st.text(max_size=20) | json_values.map(json.dumps) | st.integers().map(str)
        )
    rewrite(path, metadata={key: value})  # type: ignore[dict-item]
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as exc:
        assert str(path) in str(exc)
        return
    check_loaded(ckpt)
    assert isinstance(ckpt.config, RunConfig)


def test_the_small_config_is_what_the_helpers_write(tmp_path: Path) -> None:
    ckpt = load_checkpoint(valid_checkpoint(tmp_path / "c.safetensors"))
    assert ckpt.config == SMALL and ckpt.optimizer_state is not None
