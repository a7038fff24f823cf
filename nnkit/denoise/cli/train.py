"""``denoise-train``: train a denoiser from the command line (flags are RunConfig's fields)."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _run_parser
from nnkit.denoise.cli.parallel import TerminateAsStop, launch, nproc_conflict, run_follower
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.console_progress import ProgressLine, bar, format_duration
from nnkit.denoise.distributed import check_config, join, leave, world_size_from_env
from nnkit.denoise.events import Epoch, Event, Finished, LayerStats, Lockstep, PhotoScores, Started, Step
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

    def __init__(self, out_dir: Path, line: ProgressLine, out: TextIO) -> None:
        self.out_dir = out_dir
        self.metrics: TextIO = io.StringIO()  # until Started: the run folder is written only once training starts
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
            self.metrics = (self.out_dir / METRICS_NAME).open("a", encoding="utf-8")
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
            self.metrics.flush()
        elif isinstance(event, Epoch):
            self._record("epoch", event)
            self.metrics.flush()
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

    def _write(self, record: dict[str, Any]) -> None:
        self.metrics.write(json.dumps(_finite_or_none(record)) + "\n")
        now = time.monotonic()
        if now - self._last_flush > METRICS_FLUSH_S:  # so that `tail -f metrics.jsonl` follows the run
            self.metrics.flush()
            self._last_flush = now

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
    problem = nproc_conflict(args.nproc, world) or _nproc_problem(args.nproc, config, world)
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
        except ConfigError as exc:
            return _config_message(exc)
    return None


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
    from nnkit.denoise.trainer import Trainer

    try:
        trainer = Trainer(config, checkpoint_path=out / CHECKPOINT_NAME, resume_from=ckpt, group=group)
    except ConfigError as exc:
        print(f"denoise-train: error: {_config_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        print(f"denoise-train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lock = _lock_run_folder(out, ckpt)  # RunFolderError when another trainer holds the folder
    line = ProgressLine(sys.stderr, enabled=not quiet)
    reporter = _TrainReporter(out, line, sys.stdout)
    try:
        trainer.on_event = reporter
        stopper = _SigintStopper(trainer.request_stop, sys.stderr)
        if terminate is not None:
            terminate.request_stop = trainer.request_stop
        try:
            with stopper:
                finished = trainer.run()
        except KeyboardInterrupt:
            line.clear()
            finished = _save_after_abort(trainer, out)
            stopper.interrupted = True
    finally:
        reporter.metrics.close()
        lock.release()
    line.clear()
    status = _summarise(finished, reporter, out, interrupted=stopper.interrupted)
    if group is not None:  # after the summary: the message must come out even when the group is broken
        leave(status, broken=finished.reason == "error")
    return status


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
    print(f"metrics: {out / METRICS_NAME}")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if finished.reason in ("done", "stopped") else EXIT_FAILED
