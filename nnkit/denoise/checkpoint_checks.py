"""Checks of a checkpoint's contents before anything uses them: metadata fields, tensors, a probe forward.

Each check raises ``CheckpointError`` naming the file and the field or tensor at fault. The
order matters: the weights' names and shapes are compared with the configuration's
architecture built on the "meta" device (shapes only, no memory), so a small file whose
metadata claims a huge network never makes the loader allocate it; only then is the model
built, and a probe forward on a small fixed image must give finite values that vary, in
a plausible range (weights of 3e38 or a saturated network are refused, not used to turn
photos black).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.models import build_architecture

FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
PROBE_SIDE = 32
PROBE_RANGE = (-1.0, 2.0)  # outputs are images in [0, 1]; a residual U-Net may overshoot a little
MAX_COUNT = 2**62  # epoch and step counters beyond this are not counts


class CheckpointError(ValueError):
    """A file is not a usable checkpoint; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def meta_json(path: Path, metadata: Mapping[str, str], key: str, *, required: bool = True) -> Any:
    """The JSON value of metadata field ``key`` (None when absent and not required)."""
    if key not in metadata:
        if required:
            raise CheckpointError(path, f"metadata lacks {key!r}")
        return None
    try:
        return json.loads(metadata[key])
    except RecursionError:
        raise CheckpointError(path, f"metadata {key!r} is nested too deeply") from None
    except ValueError as exc:
        raise CheckpointError(path, f"metadata {key!r} is not valid JSON: {exc}") from None


def meta_count(path: Path, metadata: Mapping[str, str], key: str) -> int:
    """A non-negative integer metadata field (epoch, step)."""
    text = metadata.get(key)
    if text is None:
        raise CheckpointError(path, f"metadata lacks {key!r}")
    try:
        value = int(text)
    except ValueError:
        raise CheckpointError(path, f"metadata {key!r} is not an integer: {text[:40]!r}") from None
    if not 0 <= value <= MAX_COUNT:
        raise CheckpointError(path, f"metadata {key!r} must be between 0 and 2**62, got {value}")
    return value


def meta_number(path: Path, metadata: Mapping[str, str], key: str, *, required: bool, minimum: float | None) -> float:
    """A finite-number-or-null JSON metadata field (best_psnr, elapsed_s); NaN for null or absent."""
    value = meta_json(path, metadata, key, required=required)
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CheckpointError(path, f"metadata {key!r} must be a finite number or null, got {str(value)[:40]}")
    if minimum is not None and value < minimum:
        raise CheckpointError(path, f"metadata {key!r} must be at least {minimum:g}, got {value}")
    return float(value)


def meta_config(path: Path, metadata: Mapping[str, str]) -> RunConfig:
    """The RunConfig of the ``config`` field, every setting checked by RunConfig itself."""
    data = meta_json(path, metadata, "config")
    if not isinstance(data, dict):
        raise CheckpointError(path, f"metadata 'config' is not a JSON object (got {type(data).__name__})")
    try:
        return RunConfig.from_dict(data)
    except ConfigError as exc:
        raise CheckpointError(path, f"metadata 'config' field {exc}") from None
    except TypeError as exc:
        raise CheckpointError(path, f"bad run configuration: {exc}") from None


def _plain(value: Any) -> bool:
    """A JSON scalar or a flat list of them (what optimiser hyperparameters are)."""
    if isinstance(value, list):
        return all(_plain(v) and not isinstance(v, list) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int, str))


def meta_optim(path: Path, metadata: Mapping[str, str]) -> dict[str, Any] | None:
    """The ``optim`` field: null, or {"param_groups": [{...}], "scalars": {"<i>": {...}}} of plain values."""
    value = meta_json(path, metadata, "optim", required=False)
    if value is None:
        return None
    where = "metadata 'optim'"
    if not isinstance(value, dict) or set(value) - {"param_groups", "scalars"}:
        raise CheckpointError(path, f"{where} must be an object with 'param_groups' and 'scalars'")
    groups, scalars = value.get("param_groups", []), value.get("scalars", {})
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise CheckpointError(path, f"{where} 'param_groups' must be a list of objects")
    if not all(_plain(v) for g in groups for v in g.values()):
        raise CheckpointError(path, f"{where} 'param_groups' holds values that are not numbers, text or lists")
    if not isinstance(scalars, dict) or not all(
        isinstance(k, str) and k.isdigit() and isinstance(v, dict) and all(_plain(x) for x in v.values())
        for k, v in scalars.items()
    ):
        raise CheckpointError(path, f"{where} 'scalars' must map parameter numbers to objects of plain values")
    return value


def check_tensors(path: Path, weights: Mapping[str, Tensor], optim_tensors: Mapping[str, Tensor]) -> None:
    """Weights must be floating point and finite; optimiser tensors finite numbers."""
    for name, tensor in weights.items():
        if tensor.dtype not in FLOAT_DTYPES:
            raise CheckpointError(path, f"weight {name!r} has dtype {tensor.dtype}, not floating point")
        if not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(path, f"weight {name!r} holds NaN or Inf values")
    for name, tensor in optim_tensors.items():
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise CheckpointError(path, f"optimiser tensor {name!r} has dtype {tensor.dtype}")
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(path, f"optimiser tensor {name!r} holds NaN or Inf values")


def check_weight_shapes(path: str | Path, config: RunConfig, weights: Mapping[str, Tensor]) -> None:
    """Raise CheckpointError unless ``weights`` are exactly those of ``config``'s architecture (no allocation)."""
    with torch.device("meta"):  # shapes only: a width-1024 claim costs nothing here
        expected = {k: tuple(v.shape) for k, v in build_architecture(config.arch, config.width).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    missing = [k for k in expected if k not in got]
    extra = [k for k in got if k not in expected]
    wrong = [f"{k} {got[k]} (expected {expected[k]})" for k in expected if k in got and got[k] != expected[k]]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
        if extra:
            parts.append(f"unexpected {', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}")
        if wrong:
            parts.append(f"wrong shapes {'; '.join(wrong[:5])}")
        raise CheckpointError(
            path, f"weights do not fit arch={config.arch!r} width={config.width}: " + "; ".join(parts)
        )


def probe_model(path: str | Path, model: Any) -> None:
    """A forward pass on a small fixed image must give finite, varying values in PROBE_RANGE."""
    generator = torch.Generator().manual_seed(0)
    dtype = next((p.data.dtype for p in model.parameters()), torch.float32)
    x = torch.rand(1, 3, PROBE_SIDE, PROBE_SIDE, generator=generator).to(dtype)
    was_training = model.training
    model.eval()
    try:
        y = model.forward(x)
    finally:
        model.train(was_training)
        model.drop_caches()
    if not bool(torch.isfinite(y).all()):
        raise CheckpointError(path, "the weights give NaN or Inf outputs on a test image (overflowing weights)")
    low, high = float(y.min()), float(y.max())
    if low < PROBE_RANGE[0] or high > PROBE_RANGE[1]:
        raise CheckpointError(
            path, f"the weights give outputs in [{low:.3g}, {high:.3g}] on a test image, far outside an image's [0, 1]"
        )
    if high - low < 1e-6:
        raise CheckpointError(path, f"the weights give the same value ({low:.3g}) for every pixel of a test image")
