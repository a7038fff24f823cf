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
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save as st_save
from torch import Tensor

import nnkit
from nnkit import Module
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.tempfiles import temp_file_beside

KIND = "denoise-gui checkpoint"
FORMAT_VERSION = 1
SUFFIX = ".safetensors"


class CheckpointError(ValueError):
    """A file is not a usable checkpoint; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


@dataclass
class Checkpoint:
    """What a checkpoint file holds."""

    config: RunConfig
    weights: dict[str, Tensor]
    optimizer_state: dict[str, Any] | None
    epoch: int
    step: int
    best_psnr: float
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
        "optim": json.dumps(optim_meta, allow_nan=False),
    }
    data = st_save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# -- loading ------------------------------------------------------------------------------------
def _read(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    if not path.exists():
        raise CheckpointError(path, "no such file")
    if not path.is_file():
        raise CheckpointError(path, "not a file")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
    except Exception as exc:  # safetensors raises its own error types for corrupt or truncated files
        problem = f"not a readable safetensors file (corrupt, truncated or another format): {exc}"
        raise CheckpointError(path, problem) from None
    return metadata, tensors


def _meta_json(path: Path, metadata: Mapping[str, str], key: str) -> Any:
    if key not in metadata:
        raise CheckpointError(path, f"metadata lacks {key!r}")
    try:
        return json.loads(metadata[key])
    except ValueError as exc:
        raise CheckpointError(path, f"metadata {key!r} is not valid JSON: {exc}") from None


def check_weights(path: str | Path, config: RunConfig, weights: Mapping[str, Tensor]) -> None:
    """Raise CheckpointError unless ``weights`` are exactly those of ``config``'s architecture."""
    from nnkit.denoise.models import build_architecture

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
    bad = [k for k, v in weights.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(path, f"weights hold NaN or Inf values: {', '.join(bad[:5])}")


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check a checkpoint; any problem raises CheckpointError naming the file."""
    path = Path(path)
    metadata, tensors = _read(path)
    if metadata.get("kind") != KIND:
        raise CheckpointError(path, f"not a denoise-gui checkpoint (metadata 'kind' is {metadata.get('kind')!r})")
    try:
        version = int(metadata.get("format_version", ""))
    except ValueError:
        raise CheckpointError(path, f"bad format_version {metadata.get('format_version')!r}") from None
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path, f"format version {version} is newer than this program reads ({FORMAT_VERSION}): update denoise-gui"
        )
    if version < 1:
        raise CheckpointError(path, f"bad format_version {version}")
    config_dict = _meta_json(path, metadata, "config")
    if not isinstance(config_dict, dict):
        raise CheckpointError(path, "metadata 'config' is not a JSON object")
    try:
        config = RunConfig.from_dict(config_dict)
    except (ConfigError, TypeError) as exc:
        raise CheckpointError(path, f"bad run configuration: {exc}") from None
    try:
        epoch, step = int(metadata["epoch"]), int(metadata["step"])
    except (KeyError, ValueError):
        raise CheckpointError(path, "metadata 'epoch'/'step' missing or not integers") from None
    best = _meta_json(path, metadata, "best_psnr")
    best_psnr = float("nan") if best is None else float(best)
    optim_meta = _meta_json(path, metadata, "optim") if "optim" in metadata else None

    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    optim_tensors = {k: v for k, v in tensors.items() if k.startswith("optim.state.")}
    others = sorted(set(tensors) - {f"model.{k}" for k in weights} - set(optim_tensors))
    if others:
        raise CheckpointError(path, f"unexpected tensors {', '.join(others[:5])}")
    if any(len(k.split(".", 3)) != 4 or not k.split(".")[2].isdigit() for k in optim_tensors):
        raise CheckpointError(path, "malformed optimiser tensor names")
    check_weights(path, config, weights)
    return Checkpoint(
        config=config,
        weights=weights,
        optimizer_state=_unflatten_optimizer(optim_tensors, optim_meta),
        epoch=epoch,
        step=step,
        best_psnr=best_psnr,
        nnkit_version=metadata.get("nnkit_version", "unknown"),
        format_version=version,
        path=str(path),
    )


def model_from_checkpoint(ckpt: Checkpoint) -> Module:
    """The nnkit model of the checkpoint's architecture holding its weights (CPU, checkpoint dtype)."""
    from nnkit.denoise.models import build_architecture, torch_dtype

    model = build_architecture(ckpt.config.arch, ckpt.config.width)
    model.to(dtype=torch_dtype(ckpt.config.dtype))
    try:
        model.load_state_dict(ckpt.weights)
    except (KeyError, ValueError) as exc:
        raise CheckpointError(ckpt.path or "checkpoint", f"weights do not fit the model: {exc}") from None
    return model.eval()
