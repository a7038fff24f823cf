"""``denoise-train``: train a denoiser from the command line (flags are RunConfig's fields).

Its checks of the arguments before anything starts are in ``train_checks``, the reporter of the
trainer's events (progress line, metrics.jsonl) in ``train_report``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _run_parser, plain_warnings
from nnkit.denoise.cli.parallel import TerminateAsStop, launch, nproc_conflict, run_follower
from nnkit.denoise.cli.train_checks import (
    RESUME_OVERRIDABLE,
    batch_problem,
    config_message,
    cpu_cores,
    edited_config_problem,
    nproc_problem,
)
from nnkit.denoise.cli.train_report import TrainReporter
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.console_progress import ProgressLine
from nnkit.denoise.device import resolve_device
from nnkit.denoise.distributed import join, leave, world_size_from_env
from nnkit.denoise.events import Finished
from nnkit.denoise.run_folder import (
    BEST_NAME,
    CHECKPOINT_NAME,
    CONFIG_NAME,  # noqa: F401 - re-exported by nnkit.denoise.cli
    METRICS_NAME,
    RunFolderError,
    RunLock,
    aborted_checkpoint_path,
    check_out_folder,
    remove_leftover_temp_files,
)

_TrainReporter = TrainReporter  # the name tests and older callers use

_PY_TYPES: dict[str, Callable[[str], Any]] = {"int": int, "float": float, "str": str}


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per RunConfig field; unset flags stay absent from the namespace (argparse.SUPPRESS)."""
    group = parser.add_argument_group("run settings (RunConfig fields)")
    defaults = RunConfig()
    for f in dataclasses.fields(RunConfig):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        help_text = f"{f.metadata.get('help', '')} (default: {default!r})".replace("%", "%%")
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "str")
        if kind == "bool":
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text
            )
        else:
            group.add_argument(
                flag,
                dest=f.name,
                type=_PY_TYPES[kind],
                choices=f.metadata.get("choices"),
                default=argparse.SUPPRESS,
                metavar=f.name.upper() if f.metadata.get("choices") is None else None,
                help=help_text,
            )


def build_train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise-train",
        description="Train a Noise2Noise denoiser with nnkit. Ctrl-C stops cleanly and saves the run.",
        epilog="example: denoise-train --arch unet --width 32 --epochs 20 --out runs/unet32",
    )
    parser.add_argument("--out", type=Path, help="folder for the checkpoint and metrics (default: runs/<date-time>)")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="CKPT",
        help="continue the run saved in CKPT (its settings; only --epochs, --lr, --device, --cuda-graph may change)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line, only the final summary")
    parser.add_argument(
        "--nproc",
        type=int,
        metavar="N",
        help="train data-parallel in N local processes through torch.distributed (gloo on the CPU, NCCL with "
        "one GPU each); --batch-size is the global batch (same numbers as one process)",
    )
    add_config_flags(parser)
    return parser


class _SigintStopper:
    """First Ctrl-C: ask the trainer to stop after its step (it saves); second: abort at once."""

    def __init__(self, request_stop: Callable[[], None], err: TextIO) -> None:
        self.request_stop = request_stop
        self.err = err
        self.interrupted = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _SigintStopper:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.err.write("\ninterrupted: stopping after this step and saving (Ctrl-C again to abort)\n")
        self.err.flush()
        self.request_stop()


def _default_out() -> Path:
    return Path("runs") / time.strftime("%Y%m%d-%H%M%S")


def _make_config(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[RunConfig, Any]:
    """The RunConfig of the flags (or of the resumed checkpoint plus allowed flags), and the checkpoint."""
    names = [f.name for f in dataclasses.fields(RunConfig)]
    given = {name: getattr(args, name) for name in names if hasattr(args, name)}
    if args.resume is None:
        return RunConfig(**given), None
    from nnkit.denoise.checkpoint import CheckpointError, load_checkpoint

    try:
        ckpt = load_checkpoint(args.resume)
    except (CheckpointError, OSError) as exc:
        parser.error(f"--resume: {exc}")
    except ConfigError as exc:
        parser.error(f"--resume: {args.resume}: {exc}")
    changed = sorted(k for k, v in given.items() if k not in RESUME_OVERRIDABLE and v != getattr(ckpt.config, k))
    if changed:
        flags = ", ".join("--" + k.replace("_", "-") for k in changed)
        allowed = ", ".join("--" + k.replace("_", "-") for k in sorted(RESUME_OVERRIDABLE))
        parser.error(f"--resume continues the saved run: {flags} cannot change (only {allowed})")
    config = ckpt.config.replace(**given)
    if config.epochs <= ckpt.epoch:
        parser.error(f"--epochs {config.epochs}: the checkpoint has already done {ckpt.epoch} epochs; ask for more")
    return config, ckpt


def train_main(argv: Sequence[str] | None = None) -> int:
    """The ``denoise-train`` console script; returns the exit status."""
    with plain_warnings("denoise-train"):
        return _train_main(argv)


def _train_main(argv: Sequence[str] | None) -> int:
    parser = build_train_parser()
    args = _run_parser(parser, argv)
    if isinstance(args, int):
        return args
    try:
        config, ckpt = _make_config(args, parser)
    except ConfigError as exc:
        parser.print_usage(sys.stderr)
        print(f"denoise-train: error: {config_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # parser.error inside _make_config
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    world = world_size_from_env()
    problem = (
        nproc_conflict(args.nproc, world)
        or nproc_problem(args.nproc, config, world)
        or batch_problem(config)
        or edited_config_problem(args, config, ckpt)
    )
    if problem is not None:
        parser.print_usage(sys.stderr)
        print(f"denoise-train: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out if args.out is not None else (args.resume.parent if args.resume is not None else _default_out())
    try:
        check_out_folder(out, args.resume)
    except RunFolderError as exc:
        print(f"denoise-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.nproc is not None and args.nproc > 1 and world == 1:
        cores = cpu_cores()
        if args.nproc > cores and resolve_device(config.device).type == "cpu":
            print(
                f"denoise-train: warning: --nproc {args.nproc} starts more processes than this machine's {cores} "
                f"CPU cores: they share them, and each step is slower than with --nproc {cores}",
                file=sys.stderr,
            )
        rank_argv = list(sys.argv[1:] if argv is None else argv)
        if args.out is None:  # every process must agree on the folder: name it here, once
            rank_argv += ["--out", str(out)]
        return launch(rank_argv, args.nproc, out)
    try:
        return _train(config, ckpt, out, quiet=args.quiet)
    except RunFolderError as exc:
        print(f"denoise-train: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # the run folder cannot be made or written (read-only, full, a file in the way)
        print(f"denoise-train: error: {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # before the trainer's own Ctrl-C handling was in place
        print("denoise-train: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _lock_run_folder(out: Path, ckpt: Any) -> RunLock:
    """Hold ``out``'s lock (a second trainer on the folder is refused) and clear its leftovers."""
    lock = RunLock(out).acquire()
    try:
        if lock.stale_pid:
            print(
                f"denoise-train: note: {out}: took over the lock of pid {lock.stale_pid}, no longer running",
                file=sys.stderr,
            )
        check_out_folder(out, Path(ckpt.path) if ckpt is not None else None)  # again, now that no one else writes
        for leftover in remove_leftover_temp_files(out):
            print(f"denoise-train: note: removed {leftover}, left by an interrupted write", file=sys.stderr)
    except BaseException:
        lock.release()
        raise
    return lock


def _train(config: RunConfig, ckpt: Any, out: Path, *, quiet: bool) -> int:
    group = join(config)  # data-parallel under torchrun; None in a single process
    if group is None:
        return _train_here(config, ckpt, out, quiet=quiet, group=None, terminate=None)
    # torch's launcher stops a failed run with SIGTERM: finish, save and report first
    with TerminateAsStop() as terminate:
        if not group.is_main:
            return run_follower(config, ckpt, group, terminate)
        return _train_here(config, ckpt, out, quiet=quiet, group=group, terminate=terminate)


def _train_here(
    config: RunConfig, ckpt: Any, out: Path, *, quiet: bool, group: Any, terminate: TerminateAsStop | None
) -> int:
    """The run in this process (alone, or rank 0 of a data-parallel run): the run folder, progress, summary."""
    from nnkit.denoise.data import DataError, load_data
    from nnkit.denoise.trainer import Trainer

    try:
        # the data first, alone (every rank loads its own): a data error is a usage error, and no folder is made
        data = load_data(config) if group is None else None
        trainer = Trainer(config, checkpoint_path=out / CHECKPOINT_NAME, resume_from=ckpt, group=group, data=data)
    except ConfigError as exc:
        print(f"denoise-train: error: {config_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (DataError, ValueError) as exc:
        print(f"denoise-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lock = _lock_run_folder(out, ckpt)  # RunFolderError when another trainer holds the folder
    line = ProgressLine(sys.stderr, enabled=not quiet)
    reporter = TrainReporter(out, line, sys.stdout, resumed_step=ckpt.step if ckpt is not None else None)
    try:
        trainer.on_event = reporter
        stopper = _SigintStopper(trainer.request_stop, sys.stderr)
        if terminate is not None:
            terminate.request_stop = trainer.request_stop
        try:
            with stopper, _summary_says_it():
                finished = trainer.run()
        except KeyboardInterrupt:
            line.clear()
            finished = _save_after_abort(trainer, out)
            stopper.interrupted = True
    finally:
        try:
            reporter.close()
        finally:
            lock.release()  # even when the disk is full: the next run must not meet a lock
    line.clear()
    status = _summarise(finished, reporter, out, interrupted=stopper.interrupted)
    if group is not None:  # after the summary: the message must come out even when the group is broken
        leave(status, broken=finished.reason == "error")
    return status


@contextlib.contextmanager
def _summary_says_it() -> Iterator[None]:
    """Silence the trainer's log warnings (divergence, failures) while it runs: the summary line says them once.

    Its errors (unexpected exceptions, with their traceback) still show.
    """
    logger = logging.getLogger("nnkit.denoise.trainer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _save_after_abort(trainer: Any, out: Path) -> Finished:
    """A second Ctrl-C broke into a step: save the model's weights (no optimiser state) to a new file.

    ``checkpoint.safetensors`` (the last epoch's or stop's clean save, with the optimiser state) is
    left as it was: the aborted weights may be half a step old and could not be resumed exactly.
    """
    try:
        path = trainer.save_checkpoint(aborted_checkpoint_path(out), with_optimizer=False)
    except Exception as exc:
        return Finished("stopped", f"aborted; saving failed: {exc}", trainer.epoch, trainer.step, trainer.best_psnr)
    kept = out / CHECKPOINT_NAME
    resume = f"; resume from {kept} (the last clean save)" if kept.exists() else ""
    return Finished("stopped", f"aborted; weights as they were saved to {path}{resume}", trainer.epoch,
                    trainer.step, trainer.best_psnr, str(path))


def _summarise(finished: Finished, reporter: TrainReporter, out: Path, *, interrupted: bool) -> int:
    print(f"{finished.reason}: {finished.message}")
    started, last = reporter.started, reporter.last_epoch
    if started is not None and last is not None and math.isfinite(finished.best_psnr):
        gain = finished.best_psnr - started.noisy_psnr
        print(
            f"validation PSNR: best {finished.best_psnr:.2f} dB, last {last.val_psnr:.2f} dB; "
            f"noisy input {started.noisy_psnr:.2f} dB ({gain:+.2f} dB)"
        )
    if finished.checkpoint:
        print(f"checkpoint: {finished.checkpoint}")
        best = out / BEST_NAME
        if best.exists():
            print(f"best checkpoint: {best}")
    failed = reporter.metrics.failed if reporter.metrics is not None else None
    if failed is not None and str(failed.filename) not in finished.message:
        print(f"denoise-train: error: {failed.filename}: {failed.strerror}; its records end there", file=sys.stderr)
    if reporter.metrics is not None:
        print(f"metrics: {out / METRICS_NAME}")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if finished.reason in ("done", "stopped") else EXIT_FAILED
