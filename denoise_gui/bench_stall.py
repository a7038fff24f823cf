"""GUI stall probe (a benchmark, not a test): the worst gap between 10 ms timer ticks on the GUI thread.

During a real training run in the app window (and, with --denoise, while a photo is denoised),
a QTimer fires every 10 ms; the largest gap between ticks is how long the GUI froze.
Target: never over 50 ms (issue 13). Each gap over 50 ms is listed with the GUI thread's own CPU time in it:
a gap with little CPU is the thread waiting for a core (a loaded machine), not the app's work.

    QT_QPA_PLATFORM=offscreen python -m denoise_gui.bench_stall [--arch unet --width 16 --epochs 2 ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer

from denoise_gui.app import make_app
from denoise_gui.main_window import MainWindow
from denoise_gui.settings import AppSettings
from nnkit.denoise.config import RunConfig

TICK_MS = 10


class StallProbe:
    """Records the gaps between ticks of a 10 ms QTimer."""

    def __init__(self) -> None:
        self.gaps_ms: list[float] = []
        # (seconds since start, gap ms, GUI-thread CPU ms in the gap) of gaps over 50 ms: a gap with
        # little CPU is waiting (for the GIL or a core), one with much CPU is GUI work of our own
        self.big: list[tuple[float, float, float]] = []
        self.cpu_at_tick = time.thread_time()
        self.since_start = QElapsedTimer()
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        """Start probing."""
        self.gaps_ms.clear()
        self.big.clear()
        self.since_start.start()
        self.clock.start()
        self.cpu_at_tick = time.thread_time()
        self.timer.start()

    def stop(self) -> dict[str, Any]:
        """Stop probing; the summary in milliseconds."""
        self.timer.stop()
        gaps = sorted(self.gaps_ms) or [0.0]
        return {
            "ticks": len(self.gaps_ms),
            "worst_gap_ms": round(gaps[-1], 1),
            "p99_gap_ms": round(gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))], 1),
            "median_gap_ms": round(gaps[len(gaps) // 2], 1),
            "gaps_over_100ms": sum(g > 100 for g in gaps),
            "gaps_over_50ms_s_ms_cpums": self.big[:20],
        }

    def _tick(self) -> None:
        gap = self.clock.nsecsElapsed() / 1e6
        cpu = (time.thread_time() - self.cpu_at_tick) * 1000
        self.gaps_ms.append(gap)
        if gap > 50:
            self.big.append((round(self.since_start.elapsed() / 1000, 2), round(gap, 1), round(cpu, 1)))
        self.clock.restart()
        self.cpu_at_tick = time.thread_time()


def wait_for(signal: object, timeout_s: float) -> None:
    """Run the event loop until ``signal`` fires or the timeout passes."""
    loop = QEventLoop()
    signal.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()


def main(argv: list[str] | None = None) -> int:
    """Run the probe and print one JSON line per phase."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="unet")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--epoch-size", type=int, default=256)
    parser.add_argument("--crop-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--timeout", type=float, default=300.0, help="stop the run after this many seconds")
    parser.add_argument("--denoise", type=Path, help="also denoise this photo with the run's checkpoint")
    parser.add_argument("--switch-interval", type=float, help="override sys.setswitchinterval (s) after app set-up")
    args = parser.parse_args(argv)

    app = make_app(sys.argv[:1])  # kept alive until the end
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    with tempfile.TemporaryDirectory() as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, runs_dir=Path(tmp) / "runs", checkpoint=None)
        window.resize(1280, 720)
        window.show()
        settle = QEventLoop()  # the first layout and paint happen before the probe starts
        QTimer.singleShot(500, settle.quit)
        settle.exec()
        config = RunConfig(arch=args.arch, width=args.width, epochs=args.epochs, epoch_size=args.epoch_size,
                           crop_size=args.crop_size, batch_size=args.batch_size, device=args.device)
        window.train_view.form.set_config(config)
        probe = StallProbe()
        probe.start()
        began = time.monotonic()
        window.train_view.start()
        QTimer.singleShot(int(args.timeout * 1000), window.train_view.stop)
        wait_for(window.train_view.sigRunFinished, args.timeout + 60)
        result = probe.stop()
        run = window.train_view.runs[1]
        result.update(phase="train", switch_interval_s=sys.getswitchinterval(),
                      seconds=round(time.monotonic() - began, 1), steps=len(run.steps),
                      status=run.status, config=config.differences())
        print(json.dumps(result), flush=True)

        if args.denoise is not None and run.checkpoint:
            window.load_checkpoint(run.checkpoint)
            probe.start()
            began = time.monotonic()
            window.open_paths([str(args.denoise)])
            wait_for(window.denoise_view.sigBatchFinished, args.timeout)
            result = probe.stop()
            result.update(phase="denoise", seconds=round(time.monotonic() - began, 1), photo=str(args.denoise))
            print(json.dumps(result), flush=True)
        window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
