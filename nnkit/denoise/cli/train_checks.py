"""``denoise-train``'s checks of its arguments before anything starts (no process, no folder, no data read)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

import torch

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.device import resolve_device
from nnkit.denoise.distributed import check_config
from nnkit.denoise.run_folder import CONFIG_NAME

MAX_NPROC = 64  # local processes for --nproc
RESUME_OVERRIDABLE = frozenset({"epochs", "lr", "device", "cuda_graph", "inspect_every"})


def config_message(exc: ConfigError) -> str:
    """'--batch-size: must be at least 1, got 0' from ConfigError('batch_size', ...)."""
    text = str(exc)
    prefix = f"{exc.field}: "
    return "--" + exc.field.replace("_", "-") + ": " + (text[len(prefix) :] if text.startswith(prefix) else text)


def nproc_problem(nproc: int | None, config: RunConfig, world: int) -> str | None:
    """Why ``--nproc`` (or torchrun's world size) cannot run ``config``, or None."""
    if nproc is not None and not 1 <= nproc <= MAX_NPROC:
        return f"--nproc must be between 1 and {MAX_NPROC}, got {nproc}"
    processes = max(world, nproc or 1)
    if processes > 1:
        try:
            check_config(config, processes)
            resolve_device(config.device)  # now, before any process starts
        except ConfigError as exc:
            return config_message(exc)
    if nproc is not None and nproc > 1 and world == 1 and config.device in ("cuda", "auto"):
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if config.device == "cuda" and gpus < nproc:
            return f"--device cuda: --nproc {nproc} needs a CUDA device per process, this machine has {gpus}"
    return None


def cpu_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def batch_problem(config: RunConfig) -> str | None:
    """A batch larger than an epoch's pairs (known from the flags for every source but the course files)."""
    if config.data != "course" and config.batch_size > config.epoch_size:
        return (
            f"--batch-size {config.batch_size} is larger than --epoch-size {config.epoch_size} "
            "(the training pairs of an epoch): lower the one or raise the other"
        )
    return None


def edited_config_problem(args: argparse.Namespace, config: RunConfig, ckpt: Any) -> str | None:
    """Refuse a resume whose run folder's config.json was edited by hand since the run wrote it.

    The checkpoint, not config.json, holds a run's settings, and the resume writes config.json
    anew: an edit would be lost, and the run would go on without what its editor most likely
    meant (e.g. a new learning rate). Nothing has started yet, so saying it costs nothing.
    """
    if ckpt is None:
        return None
    out = args.out if args.out is not None else args.resume.parent
    path = out / CONFIG_NAME
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"--resume: {path} cannot be read ({exc}); move it away (the checkpoint holds the run's settings)"
    if not isinstance(saved, dict):
        return f"--resume: {path} is not a mapping of settings; move it away (the checkpoint holds the run's settings)"
    now, before = _as_json(config), _as_json(ckpt.config)
    edited = sorted(k for k, v in saved.items() if (v != now.get(k, v) and v != before.get(k, v)) or k not in now)
    if not edited:
        return None
    fields = ", ".join(
        f"{k} is {json.dumps(saved[k])} there, {json.dumps(now[k])} in the run" if k in now else f"{k} is unknown"
        for k in edited
    )
    allowed = ", ".join("--" + k.replace("_", "-") for k in sorted(RESUME_OVERRIDABLE))
    return (
        f"--resume: {path} was edited since the run wrote it ({fields}); a resume takes the checkpoint's settings "
        f"and rewrites that file: undo the edit, or change what may change with {allowed}"
    )


def _as_json(config: RunConfig) -> dict[str, Any]:
    """A config as config.json holds it (tuples as lists)."""
    return json.loads(json.dumps(config.to_dict()))
