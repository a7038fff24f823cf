"""The cost of per-layer statistics: training with inspect_every=N against without, side by side.

Two NnkitEngines of the same RunConfig and weights train on the same batch in this one
process. A block is N steps as the trainer runs them (a copy of the weights, then the step);
in the inspected block the N-th step is ``inspect_step`` and its LayerStats event is built,
as the trainer does with ``inspect_every=N``. Blocks alternate (the order flips each
repetition) after a warm-up. Reported: the median ms per block of each side, their
interquartile spread, and the overhead (inspected / plain - 1); the target is below 5% at N=10.

    python -m nnkit.denoise.bench.inspect_overhead                  # report and U-Net, width 32, batch 16
    python -m nnkit.denoise.bench.inspect_overhead --quick          # a tiny smoke run
    python -m nnkit.denoise.bench.inspect_overhead --out docs/bench/inspect-cpu.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from nnkit.denoise.bench.step import machine
from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines import NnkitEngine, make_engine
from nnkit.denoise.inspection import layer_stats_event
from nnkit.denoise.models import build_model


@dataclass
class Overhead:
    """One configuration: ms per block of ``every`` steps, plain and inspected."""

    arch: str
    width: int
    batch: int
    size: int
    every: int
    reps: int
    plain_ms: float
    plain_q1: float
    plain_q3: float
    inspected_ms: float
    inspected_q1: float
    inspected_q3: float

    @property
    def overhead(self) -> float:
        return self.inspected_ms / self.plain_ms - 1


class Side:
    """One engine and its trainer-like loop over blocks of steps."""

    def __init__(self, config: RunConfig, x: torch.Tensor, y: torch.Tensor, inspect: bool) -> None:
        engine = make_engine(config, build_model(config))
        assert isinstance(engine, NnkitEngine)
        self.engine, self.x, self.y, self.inspect = engine, x, y, inspect
        self.params = engine.parameter_tensors()
        self.before = [t.clone() for t in self.params]

    def block(self, steps: int) -> float:
        """Seconds for ``steps`` steps, the last one inspected on the inspecting side."""
        start = time.perf_counter()
        for i in range(steps):
            torch._foreach_copy_(self.before, self.params)  # the trainer's last-good-weights snapshot
            if self.inspect and i == steps - 1:
                _, report = self.engine.inspect_step(self.x, self.y, before=self.before)
                layer_stats_event(self.engine.model, report, i, 1)
            else:
                self.engine.train_step(self.x, self.y)
        if self.engine.device.type == "cuda":
            torch.cuda.synchronize(self.engine.device)
        return time.perf_counter() - start


def _quartiles(times: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return 1e3 * statistics.median(times), 1e3 * q[0], 1e3 * q[2]


def measure(arch: str, width: int, batch: int, size: int, every: int, reps: int, device: str) -> Overhead:
    config = RunConfig(arch=arch, width=width, batch_size=batch, crop_size=size, device=device, seed=0)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(batch, 3, size, size, generator=gen), torch.rand(batch, 3, size, size, generator=gen)
    plain, inspected = Side(config, x, y, False), Side(config, x, y, True)
    for side in (plain, inspected):
        side.block(every)  # warm-up: buffers, caches
    times: dict[bool, list[float]] = {False: [], True: []}
    for rep in range(reps):
        for side in (plain, inspected) if rep % 2 == 0 else (inspected, plain):
            times[side.inspect].append(side.block(every))
    p, i = _quartiles(times[False]), _quartiles(times[True])
    return Overhead(arch, width, batch, size, every, reps, *p, *i)


def table(points: Sequence[Overhead]) -> str:
    lines = [
        f"| network | width | batch | every | plain ms/{points[0].every} steps | inspected | overhead |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        lines.append(
            f"| {p.arch} | {p.width} | {p.batch} | {p.every} | {p.plain_ms:.1f} ({p.plain_q1:.1f}–{p.plain_q3:.1f}) "
            f"| {p.inspected_ms:.1f} ({p.inspected_q1:.1f}–{p.inspected_q3:.1f}) | {100 * p.overhead:+.1f}% |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Overhead of per-layer statistics (inspect_every) on training.")
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run")
    parser.add_argument("--every", type=int, default=10, help="inspect every N steps (default: 10)")
    parser.add_argument("--reps", type=int, default=20, help="blocks per side (default: 20)")
    parser.add_argument("--device", default="cpu", help="'cpu' or 'cuda' (default: cpu)")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own choice)")
    parser.add_argument("--out", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    grid = [("report", 4, 4, 16)] if args.quick else [("report", 32, 16, 32), ("unet", 32, 16, 32)]
    reps = 2 if args.quick else args.reps
    points = [measure(arch, w, b, s, args.every, reps, args.device) for arch, w, b, s in grid]
    print(table(points))
    if args.out is not None:
        rows = [{**asdict(p), "overhead": p.overhead} for p in points]
        args.out.write_text(json.dumps({"machine": machine(), "points": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
