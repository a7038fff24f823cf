"""Checkpoints: one .safetensors file with the weights, the optimiser state and the run's metadata.

Layout of the file:

* tensors ``model.<name>``: the model's state_dict (the keys of the nnkit model and its twin);
* tensors ``optim.state.<i>.<key>``: the optimiser's per-parameter tensors;
* metadata (str -> str): ``kind`` = "denoise-gui checkpoint", ``format_version``, ``nnkit_version``,
  ``config`` (RunConfig as JSON), ``epoch``, ``step``, ``best_psnr`` and ``optim`` (JSON of the
  optimiser's param_groups and any non-tensor per-parameter values).

Writing is atomic (temporary file in the same folder, flush + fsync, ``os.replace``); loading
never executes code (safetensors holds only raw tensors and strings) and checks everything,
raising ``CheckpointError`` that names the file and what is wrong.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safetensors import safe_open
from safetensors.torch import save as st_save
from torch import Tensor

import nnkit
from nnkit import Module
from nnkit.denoise.checkpoint_checks import (
    CheckpointError,
    check_tensors,
    check_weight_shapes,
    meta_config,
    meta_count,
    meta_number,
    meta_optim,
    probe_model,
)
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_architecture, torch_dtype
from nnkit.denoise.tempfiles import write_bytes_atomically

KIND = "denoise-gui checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"


@dataclass
class Checkpoint:
    """What a checkpoint file holds."""

    config: RunConfig
    weights: dict[str, Tensor]
    optimizer_state: dict[str, Any] | None
    epoch: int
    step: int
    best_psnr: float
    elapsed_s: float = 0.0  # training time of the run up to this checkpoint
    nnkit_version: str = nnkit.__version__
    format_version: int = FORMAT_VERSION
    path: str = ""


# -- optimiser state <-> flat tensors + JSON -------------------------------------------------
def _flatten_optimizer(state: Mapping[str, Any] | None) -> tuple[dict[str, Tensor], dict[str, Any] | None]:
    if state is None:
        return {}, None
    tensors: dict[str, Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, per_param in state.get("state", {}).items():
        for key, value in per_param.items():
            if "." in str(key):
                raise ValueError(f"optimiser state key {key!r} contains a dot")
            if isinstance(value, Tensor):
                tensors[f"optim.state.{int(index)}.{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(int(index)), {})[str(key)] = value
    meta = {"param_groups": list(state.get("param_groups", [])), "scalars": scalars}
    return tensors, meta


def _unflatten_optimizer(tensors: Mapping[str, Tensor], meta: dict[str, Any] | None) -> dict[str, Any] | None:
    if meta is None:
        return None
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        _, _, index, key = name.split(".", 3)
        state.setdefault(int(index), {})[key] = value
    for index, values in meta.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": dict(sorted(state.items())), "param_groups": meta.get("param_groups", [])}


# -- saving -------------------------------------------------------------------------------------
def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def save_checkpoint(
    path: str | Path,
    *,
    weights: Mapping[str, Tensor],
    optimizer_state: Mapping[str, Any] | None,
    config: RunConfig,
    epoch: int,
    step: int,
    best_psnr: float,
    elapsed_s: float = 0.0,
) -> Path:
    """Write a checkpoint atomically to ``path`` (".safetensors" added if missing); returns the path."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    tensors = {f"model.{k}": v.detach().cpu().contiguous().clone() for k, v in weights.items()}
    optim_tensors, optim_meta = _flatten_optimizer(optimizer_state)
    tensors.update(optim_tensors)
    metadata = {
        "kind": KIND,
        "format_version": str(FORMAT_VERSION),
        "nnkit_version": nnkit.__version__,
        "config": json.dumps(config.to_dict(), sort_keys=True),
        "epoch": str(int(epoch)),
        "step": str(int(step)),
        "best_psnr": json.dumps(_json_float(best_psnr)),
        "elapsed_s": json.dumps(_json_float(float(elapsed_s))),
        "optim": json.dumps(optim_meta, allow_nan=False),
    }
    data = st_save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bytes_atomically(path, data)


# -- loading ------------------------------------------------------------------------------------
def _read(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if path.is_dir():
        raise CheckpointError(path, "is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(path, "not a regular file (a pipe, device or socket)")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:  # unreadable: say so, rather than call the file corrupt
        raise CheckpointError(path, f"cannot be read: {exc.strerror or exc}") from None
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except Exception as exc:  # safetensors raises its own error types for corrupt or truncated files
        problem = f"not a readable safetensors file (corrupt, truncated or another format): {exc}"
        raise CheckpointError(path, problem) from None
    return metadata, tensors


def _format_version(path: Path, metadata: Mapping[str, str]) -> int:
    text = metadata.get("format_version", "")
    try:
        version = int(text)
    except ValueError:
        raise CheckpointError(path, f"metadata 'format_version' is not an integer: {text[:40]!r}") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path, f"format version {version} is newer than this program reads ({FORMAT_VERSION}): update denoise-gui"
        )
    if version < 1:
        raise CheckpointError(path, f"metadata 'format_version' must be at least 1, got {version}")
    return version


def load_checkpoint(path: str | Path, *, probe: bool = True) -> Checkpoint:
    """Read and check a checkpoint; any problem raises CheckpointError naming the file and the field.

    Every metadata field is validated; the weights must be finite floats whose names and shapes
    fit the configuration's architecture (compared before any model is built); with ``probe``
    a forward pass on a small test image must give finite, varying values in a plausible range.
    """
    path = Path(path)
    metadata, tensors = _read(path)
    if metadata.get("kind") != KIND:
        raise CheckpointError(path, f"not a denoise-gui checkpoint (metadata 'kind' is {metadata.get('kind')!r})")
    version = _format_version(path, metadata)
    config = meta_config(path, metadata)
    epoch, step = meta_count(path, metadata, "epoch"), meta_count(path, metadata, "step")
    best_psnr = meta_number(path, metadata, "best_psnr", required=True, minimum=None)
    elapsed = meta_number(path, metadata, "elapsed_s", required=False, minimum=0.0)
    optim_meta = meta_optim(path, metadata)
    nnkit_version = metadata.get("nnkit_version", "unknown")

    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    optim_tensors = {k: v for k, v in tensors.items() if k.startswith("optim.state.")}
    others = sorted(set(tensors) - {f"model.{k}" for k in weights} - set(optim_tensors))
    if others:
        raise CheckpointError(path, f"unexpected tensors {', '.join(others[:5])}")
    if any(len(k.split(".", 3)) != 4 or not k.split(".")[2].isdigit() for k in optim_tensors):
        raise CheckpointError(path, "malformed optimiser tensor names")
    check_weight_shapes(path, config, weights)
    check_tensors(path, weights, optim_tensors)
    ckpt = Checkpoint(
        config=config,
        weights=weights,
        optimizer_state=_unflatten_optimizer(optim_tensors, optim_meta),
        epoch=epoch,
        step=step,
        best_psnr=best_psnr,
        elapsed_s=0.0 if math.isnan(elapsed) else elapsed,
        nnkit_version=nnkit_version,
        format_version=version,
        path=str(path),
    )
    if probe:
        _probed_model(path, config, weights)
    return ckpt


def model_from_checkpoint(ckpt: Checkpoint) -> Module:
    """The nnkit model of the checkpoint's architecture holding its weights (CPU, checkpoint dtype), probed."""
    where = ckpt.path or "checkpoint"
    check_weight_shapes(where, ckpt.config, ckpt.weights)  # before building (a Checkpoint made in memory, too)
    return _probed_model(where, ckpt.config, ckpt.weights)


def _probed_model(where: str | Path, config: RunConfig, weights: Mapping[str, Tensor]) -> Module:
    """Build ``config``'s network with ``weights`` (their shapes checked already) and probe it; eval mode."""
    model = build_architecture(config.arch, config.width)
    model.to(dtype=torch_dtype(config.dtype))
    try:
        model.load_state_dict(weights)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(where, f"weights do not fit the model: {exc}") from None
    probe_model(where, model)
    return model.eval()
