"""``denoise-train``: train a denoiser from the command line (flags are RunConfig's fields)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import torch

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _run_parser, plain_warnings
from nnkit.denoise.cli.parallel import TerminateAsStop, launch, nproc_conflict, run_follower
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.distributed import check_config, join, leave, world_size_from_env
from nnkit.denoise.engine import resolve_device
from nnkit.denoise.events import Epoch, Event, Finished, LayerStats, Lockstep, PhotoScores, Started, Step
from nnkit.denoise.jsonl_log import JsonlLog, drop_after, repair
from nnkit.denoise.progress import ProgressLine, bar, format_duration
from nnkit.denoise.run_folder import (
    BEST_NAME,
    CHECKPOINT_NAME,
    CONFIG_NAME,
    METRICS_NAME,
    RunFolderError,
    RunLock,
    aborted_checkpoint_path,
    check_out_folder,
    remove_leftover_temp_files,
)
from nnkit.layer_stats import as_record

METRICS_FLUSH_S = 1.0
MAX_NPROC = 64  # local processes for --nproc
RESUME_OVERRIDABLE = frozenset({"epochs", "lr", "device", "cuda_graph", "inspect_every"})
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


class _TrainReporter:
    """Turns trainer events into a progress line, epoch lines and metrics.jsonl records."""

    def __init__(self, out_dir: Path, line: ProgressLine, out: TextIO, resumed_step: int | None = None) -> None:
        self.out_dir = out_dir
        self.metrics: JsonlLog | None = None  # opened at Started: the run folder is written only once training starts
        self.resumed_step = resumed_step  # a resumed checkpoint's step: later records of the file are dropped
        self.line = line
        self.out = out
        self.started: Started | None = None
        self.last_epoch: Epoch | None = None
        self.run_start = time.perf_counter()
        self.steps_done_at_start: int | None = None
        self._last_flush = time.monotonic()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.started = event
            self.run_start = time.perf_counter()
            # config.json and metrics.jsonl are written once the trainer has started (data loaded,
            # optimiser state fitted), so a run that fails to start, a failed resume, changes nothing
            _write_config(self.out_dir, event.config)
            self._open_metrics(event.resumed_epoch)
            fields = ("device", "num_parameters", "steps_per_epoch", "train_size", "val_size", "noisy_psnr")
            self._write({"event": "started", **{k: getattr(event, k) for k in fields}})
            cfg = event.config
            if event.resumed_from:
                self._write({"event": "resumed", "from": event.resumed_from, "epoch": event.resumed_epoch})
                psnr = event.start_val_psnr
                start = f", validation PSNR {psnr:.2f} dB" if math.isfinite(psnr) else ""
                self.line.finish_line(
                    f"resuming {event.resumed_from}: {event.resumed_epoch} of {cfg.epochs} epochs done{start}"
                )
            floor = f"noisy validation input {event.noisy_psnr:.2f} dB" if math.isfinite(event.noisy_psnr) else (
                "no clean images: validation scores the hidden pixels"
            )
            self.line.finish_line(
                f"training {cfg.arch} width {cfg.width} ({event.num_parameters:,} parameters) on {event.device}: "
                f"{event.train_size} crops/epoch, {event.steps_per_epoch} steps/epoch, {cfg.epochs} epochs; {floor}"
            )
        elif isinstance(event, Step):
            self._record("step", event)
            self._draw(event)
        elif isinstance(event, LayerStats):
            self._write(as_record(event.report, event.step))
        elif isinstance(event, Lockstep):
            self._record("lockstep", event)
        elif isinstance(event, Finished):  # the last line: how the run ended (read by nnkit.denoise.parallel_run)
            self._write({"event": "finished", **dataclasses.asdict(event)})
            if self.metrics is not None:
                self.metrics.close()  # a write error here is in metrics.failed: the run has ended anyway
        elif isinstance(event, Epoch):
            self._record("epoch", event)
            self._flush()
            self.last_epoch = event
            total = f"/{self.started.config.epochs}" if self.started is not None else ""
            loss = f"train loss {event.train_loss:.5f}, " if math.isfinite(event.train_loss) else ""
            scores = [f"val loss {event.val_loss:.5f}"] if math.isfinite(event.val_loss) else []
            scores += [f"val PSNR {event.val_psnr:.2f} dB"] if math.isfinite(event.val_psnr) or not scores else []
            scores += [f"SSIM {event.val_ssim:.4f}"] if math.isfinite(event.val_ssim) else []
            self.line.finish_line(
                f"epoch {event.epoch}{total}: {loss}{', '.join(scores)}, "
                f"elapsed {format_duration(event.elapsed_s)}, ETA {format_duration(event.eta_s)}"
            )
        elif isinstance(event, PhotoScores):
            self._record("photos", event)
            self.line.finish_line(
                f"whole validation photos (noise level {event.level:g}): PSNR {event.psnr:.2f} dB, "
                f"SSIM {event.ssim:.4f} (noisy {event.noisy_psnr:.2f} dB)"
            )

    def _record(self, kind: str, event: Step | Epoch | Lockstep | PhotoScores) -> None:
        self._write({"event": kind, **dataclasses.asdict(event)})

    def _open_metrics(self, resumed_epoch: int) -> None:
        """Open metrics.jsonl to append, first cutting a half record at its end and (resuming) the records
        of steps the checkpoint does not hold, each said in a note."""
        path = self.out_dir / METRICS_NAME
        cut = repair(path)
        if cut:
            _note(f"{path}: dropped a half record at its end ({cut} bytes, cut by an interrupted write)")
        if self.resumed_step is not None:
            dropped = drop_after(path, self.resumed_step, resumed_epoch)
            if dropped:
                _note(
                    f"{path}: dropped {dropped} records past the resumed checkpoint's step {self.resumed_step} "
                    "(written after its last save), so that steps do not repeat"
                )
        self.metrics = JsonlLog(path)

    def _write(self, record: dict[str, Any]) -> None:
        if self.metrics is None:
            return
        self.metrics.write(_finite_or_none(record))
        if time.monotonic() - self._last_flush > METRICS_FLUSH_S:  # so that `tail -f metrics.jsonl` follows the run
            self._flush()

    def _flush(self) -> None:
        """Append the records so far, whole; an OSError (disk full) goes up and ends the run."""
        self._last_flush = time.monotonic()
        if self.metrics is not None:
            self.metrics.flush()

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.close()

    def _draw(self, event: Step) -> None:
        if self.started is None:
            return
        s = self.started
        if self.steps_done_at_start is None:
            self.steps_done_at_start = event.step - 1
        total = s.config.epochs * s.steps_per_epoch
        in_epoch = event.step - (event.epoch - 1) * s.steps_per_epoch
        done_here = event.step - self.steps_done_at_start
        elapsed = time.perf_counter() - self.run_start
        eta = elapsed / max(done_here, 1) * (total - event.step)
        val_psnr = self.last_epoch.val_psnr if self.last_epoch is not None else s.start_val_psnr
        val = f" | val {val_psnr:.2f} dB" if math.isfinite(val_psnr) else ""
        self.line.update(
            f"epoch {event.epoch}/{s.config.epochs} {bar(event.step / max(total, 1))} "
            f"step {in_epoch}/{s.steps_per_epoch} | loss {event.loss:.5f}{val} | "
            f"{event.images_per_s:.0f} img/s | ETA {format_duration(eta)}"
        )


def _config_message(exc: ConfigError) -> str:
    """'--batch-size: must be at least 1, got 0' from ConfigError('batch_size', ...)."""
    text = str(exc)
    prefix = f"{exc.field}: "
    return "--" + exc.field.replace("_", "-") + ": " + (text[len(prefix) :] if text.startswith(prefix) else text)


def _finite_or_none(value: Any) -> Any:
    """NaN and Inf become null (JSON has neither), in nested dicts too."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    return None if isinstance(value, float) and not math.isfinite(value) else value


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
        print(f"denoise-train: error: {_config_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # parser.error inside _make_config
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE

    world = world_size_from_env()
    problem = (
        nproc_conflict(args.nproc, world)
        or _nproc_problem(args.nproc, config, world)
        or _batch_problem(config)
        or _edited_config_problem(args, config, ckpt)
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
        cores = _cpu_cores()
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


def _nproc_problem(nproc: int | None, config: RunConfig, world: int) -> str | None:
    """Why ``--nproc`` (or torchrun's world size) cannot run ``config``, or None."""
    if nproc is not None and not 1 <= nproc <= MAX_NPROC:
        return f"--nproc must be between 1 and {MAX_NPROC}, got {nproc}"
    processes = max(world, nproc or 1)
    if processes > 1:
        try:
            check_config(config, processes)
            resolve_device(config.device)  # now, before any process starts
        except ConfigError as exc:
            return _config_message(exc)
    if nproc is not None and nproc > 1 and world == 1 and config.device in ("cuda", "auto"):
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if config.device == "cuda" and gpus < nproc:
            return f"--device cuda: --nproc {nproc} needs a CUDA device per process, this machine has {gpus}"
    return None


def _cpu_cores() -> int:
    """The CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _batch_problem(config: RunConfig) -> str | None:
    """A batch larger than an epoch's pairs (known from the flags for every source but the course files)."""
    if config.data != "course" and config.batch_size > config.epoch_size:
        return (
            f"--batch-size {config.batch_size} is larger than --epoch-size {config.epoch_size} "
            "(the training pairs of an epoch): lower the one or raise the other"
        )
    return None


def _edited_config_problem(args: argparse.Namespace, config: RunConfig, ckpt: Any) -> str | None:
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


def _write_config(out: Path, config: RunConfig) -> None:
    """config.json, written atomically."""
    from nnkit.denoise.tempfiles import temp_file_beside

    path = out / CONFIG_NAME
    fd, tmp = temp_file_beside(path)
    try:
        with open(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


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
        print(f"denoise-train: error: {_config_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (DataError, ValueError) as exc:
        print(f"denoise-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lock = _lock_run_folder(out, ckpt)  # RunFolderError when another trainer holds the folder
    line = ProgressLine(sys.stderr, enabled=not quiet)
    reporter = _TrainReporter(out, line, sys.stdout, resumed_step=ckpt.step if ckpt is not None else None)
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


def _note(text: str) -> None:
    print(f"denoise-train: note: {text}", file=sys.stderr)


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


def _summarise(finished: Finished, reporter: _TrainReporter, out: Path, *, interrupted: bool) -> int:
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
