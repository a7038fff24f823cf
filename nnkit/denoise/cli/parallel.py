"""``denoise-train --nproc N`` and runs under torchrun: data-parallel training from the command line.

``--nproc N`` hands the same command line (less ``--nproc``) to torch's own launcher,
``torch.distributed.run`` (what ``torchrun`` runs), with a standalone rendezvous on this
machine; each process then runs ``denoise-train`` as if torchrun had started it. Rank 0
does everything a single process does (run folder, checkpoints, metrics, progress); the
other ranks train their share of each batch and write nothing.

When a process dies, torch's launcher stops the others (SIGTERM, then SIGKILL after 30 s).
The survivors notice the lost peer in their next collective and end with a message;
SIGTERM is turned into a stop request so that rank 0 can still report and save.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from nnkit.denoise.config import RunConfig
from nnkit.denoise.run_folder import CHECKPOINT_NAME

RANK_PROGRAM = "nnkit.denoise.cli.train_rank"  # the module each launched process runs


def without_nproc(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--nproc N`` / ``--nproc=N`` taken out (the launched processes must not launch again)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def launch(argv: Sequence[str], nproc: int, out: Path | None) -> int:
    """Run ``denoise-train argv`` in ``nproc`` local processes through torch.distributed.run."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    launcher_args = get_args_parser().parse_args(
        ["--standalone", "--nproc-per-node", str(nproc), "--module", RANK_PROGRAM, *without_nproc(argv)]
    )
    # torch's launcher logs each failure with a long report; the summary below says what matters
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    # share the cores out (torch's launcher would set 1 and print a banner saying so)
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    try:
        run(launcher_args)
    except ChildFailedError as exc:
        print(f"denoise-train: error: {failure_summary(exc.failures, nproc, out)}", file=sys.stderr)
        return EXIT_FAILED
    except (SignalException, KeyboardInterrupt):  # Ctrl-C: every process got it too, stops and saves
        return EXIT_INTERRUPTED
    return EXIT_OK


def failure_summary(failures: dict[int, Any], nproc: int, out: Path | None) -> str:
    """One sentence from torch's failure records: which rank ended how, and where the run's files are."""
    def code_of(failure: Any) -> int:
        return int(getattr(failure, "exitcode", 1))

    parts = []
    # a rank killed by a signal is the cause; the others' exits followed from it
    for rank, failure in sorted(failures.items(), key=lambda item: (code_of(item[1]) >= 0, item[0])):
        code = code_of(failure)
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 and -code in signal.valid_signals() else ""
        parts.append(f"rank {rank} {how or f'exited with status {code}'}")
    where = ""
    if out is not None:  # name a checkpoint only where there is one (the run may have failed before its first save)
        saved = out / CHECKPOINT_NAME
        where = f"; the run's last saved checkpoint is {saved}" if saved.is_file() else f"; nothing saved in {out}"
    return f"data-parallel run of {nproc} processes failed: {', '.join(parts)}{where}"


class TerminateAsStop:
    """SIGTERM (torch's launcher stopping the run) becomes a stop request, so rank 0 can save and report.

    Installed for the whole of a data-parallel process's run, saving and final message
    included; ``request_stop`` is pointed at the trainer once there is one.
    """

    def __init__(self) -> None:
        self.request_stop: Callable[[], None] = lambda: None
        self.terminated = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> TerminateAsStop:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.terminated = True
        self.request_stop()


def run_follower(config: RunConfig, ckpt: Any, group: Any, terminate: TerminateAsStop) -> int:
    """A rank other than 0: train its share of every batch; no files, no output but errors."""
    from nnkit.denoise.distributed import leave
    from nnkit.denoise.trainer import Trainer

    trainer = Trainer(config, resume_from=ckpt, group=group)
    terminate.request_stop = trainer.request_stop
    finished = trainer.run()
    if finished.reason == "error":
        print(f"denoise-train (rank {group.rank}): {finished.message}", file=sys.stderr)
    status = EXIT_OK if finished.reason in ("done", "stopped") else EXIT_FAILED
    leave(status, broken=finished.reason == "error")
    return status


def nproc_conflict(nproc: int | None, world: int) -> str | None:
    """An error message when --nproc contradicts the torchrun that started this process, else None."""
    if nproc is None or world <= 1 or nproc == world:
        return None
    return f"--nproc {nproc}: this process was started by torchrun with {world} processes; leave --nproc out"

