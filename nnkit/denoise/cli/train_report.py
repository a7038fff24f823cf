"""``denoise-train``'s reporter: trainer events as a progress line, epoch lines and metrics.jsonl records."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from nnkit.denoise.config import RunConfig
from nnkit.denoise.console_progress import ProgressLine, bar, format_duration
from nnkit.denoise.events import Epoch, Event, Finished, LayerStats, Lockstep, PhotoScores, Started, Step
from nnkit.denoise.jsonl_log import JsonlLog, drop_after, repair
from nnkit.denoise.run_folder import CONFIG_NAME, METRICS_NAME
from nnkit.denoise.tempfiles import write_bytes_atomically
from nnkit.layer_stats import as_record

METRICS_FLUSH_S = 1.0
SUPERSEDED_NAME = "metrics.superseded.jsonl"  # records a resume took out of metrics.jsonl (steps it trains again)


class TrainReporter:
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
            write_config(self.out_dir, event.config)
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
            note(f"{path}: dropped a half record at its end ({cut} bytes, cut by an interrupted write)")
        if self.resumed_step is not None:
            side = self.out_dir / SUPERSEDED_NAME
            dropped = drop_after(path, self.resumed_step, resumed_epoch, keep_in=side)
            if dropped:
                note(
                    f"{path}: moved {dropped} records past the resumed checkpoint's step {self.resumed_step} "
                    f"(written after its last save) to {side}, so that steps do not repeat"
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


def _finite_or_none(value: Any) -> Any:
    """NaN and Inf become null (JSON has neither), in nested dicts too."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    return None if isinstance(value, float) and not math.isfinite(value) else value


def write_config(out: Path, config: RunConfig) -> None:
    """config.json, written atomically (an OSError names it)."""
    text = json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n"
    write_bytes_atomically(out / CONFIG_NAME, text.encode("utf-8"))


def note(text: str) -> None:
    print(f"denoise-train: note: {text}", file=sys.stderr)
