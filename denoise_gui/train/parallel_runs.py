"""Runs in several local processes from the app: the Processes control and its trainer factory.

A run with N > 1 processes is ``denoise-train --nproc N`` (torch.distributed, through torch's
launcher), followed by nnkit.denoise.parallel_run.ParallelTrainer, which replays rank 0's
records as the usual events: the same curves, progress and run table, no before/after grid
(images stay in the processes) and no pause (the processes wait on each other every step).
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtWidgets import QSpinBox, QWidget

from nnkit.denoise.config import ConfigError, RunConfig

PARALLEL_NO_PAUSE = "A run in several processes cannot pause: stop it, then continue it from its checkpoint"


def max_processes() -> int:
    """One process per GPU where there are GPUs, else per CPU core."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return max(1, gpus or (os.cpu_count() or 1))


def processes_spin_box(parent: QWidget) -> QSpinBox:
    """'Processes: N' (1 = this process), disabled with the reason where there is nothing to share out."""
    box = QSpinBox(parent)
    box.setPrefix("Processes: ")
    box.setRange(1, max_processes())
    box.setValue(1)
    if box.maximum() == 1:
        box.setEnabled(False)
        box.setToolTip("Data-parallel training needs several CPU cores or GPUs; this machine has one")
    else:
        box.setToolTip(
            "Train data-parallel in N local processes (torch.distributed: gloo on the CPU, NCCL with one GPU "
            "each). The batch size is the global batch, shared out between the processes; the curves are "
            "those of one process, the before/after grid is not updated and the run cannot pause."
        )
    return box


def parallel_problem(config: RunConfig, processes: int) -> str | None:
    """Why ``config`` cannot run in ``processes`` processes (form labels, not field names), or None."""
    if processes <= 1:
        return None
    from nnkit.denoise.distributed import check_config

    try:
        check_config(config, processes)
    except ConfigError as exc:
        label = {"batch_size": "Batch size", "engine": "Engine", "device": "Device", "lockstep": "Lockstep"}
        return f"{label.get(exc.field, exc.field)}: {str(exc).split(': ', 1)[-1]}"
    return None


def parallel_factory(processes: int) -> Any:
    """A TrainWorker factory that builds a ParallelTrainer over ``processes`` processes."""
    from nnkit.denoise.parallel_run import ParallelTrainer

    def build(config: RunConfig, on_event: Any, *, checkpoint_path: Any, resume_from: Any) -> ParallelTrainer:
        return ParallelTrainer(
            config, on_event, checkpoint_path=checkpoint_path, resume_from=resume_from, nproc=processes
        )

    build.parallel = True  # type: ignore[attr-defined]
    return build
