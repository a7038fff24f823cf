"""denoise-bench: one full training step of an nnkit model against its torch.nn twin, side by side.

A step is forward, MSE loss, backward and an Adam update. nnkit runs its hand-written
passes and nnkit.optim.Adam; the twin (nnkit.reference.to_torch, same weights) runs
torch.nn + autograd + torch.optim.Adam. Both run in this one process on the same batch,
interleaved (the order alternates each repetition) after a warm-up, so that machine
noise hits both alike. Reported: median ms/step, the interquartile spread, images/s and
the ratio nnkit/torch (below 1 means nnkit is faster).

    denoise-bench                    # the grid: batch {10, 100, 1000} x width {32, 64}, report net (both ways) + U-Net
    denoise-bench --quick            # tiny smoke run (what the test runs)
    denoise-bench --out bench.json   # also write the results as JSON
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from nnkit import Module
from nnkit.denoise.bench.twin_step import LR, TorchStep
from nnkit.denoise.tempfiles import output_file_problem, write_bytes_atomically
from nnkit.loss import MSELoss
from nnkit.optim import Adam


@dataclass
class Point:
    """One benchmarked configuration and its measurements (times in ms per step)."""

    arch: str
    width: int
    batch: int
    size: int
    device: str
    reps: int
    nnkit_ms: float
    nnkit_q1: float
    nnkit_q3: float
    torch_ms: float
    torch_q1: float
    torch_q3: float
    first_loss_diff: float
    graph: bool = False
    tf32: bool = False
    torch_graph: bool = False

    @property
    def ratio(self) -> float:
        return self.nnkit_ms / self.torch_ms

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["nnkit_images_per_s"] = self.batch / self.nnkit_ms * 1e3
        d["torch_images_per_s"] = self.batch / self.torch_ms * 1e3
        return d


def build(arch: str, width: int) -> Module:
    """The engine's network body (nnkit.denoise.models) of ``arch`` and ``width``, He weights, seed 0."""
    from nnkit.denoise import models
    from nnkit.init import initialise

    # Beside the engine's architectures: "report-way", the report network as the report writes it.
    factories = {**models.ARCHITECTURES, "report-way": models.report_net_as_written}
    model = factories[arch](width)
    if isinstance(model, models.PadToMultiple):  # the benchmark's sides are multiples of 4: no padding to time
        model = model.inner
    initialise(model, "he", torch.Generator().manual_seed(0))
    return model


def setup(
    arch: str, width: int, batch: int, size: int, device: torch.device
) -> tuple[Module, torch.Tensor, torch.Tensor]:
    """The benchmarked model (``build``) on ``device`` and one fixed random batch (x, y) of RGB images, seed 1."""
    model = build(arch, width).to(device=device)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(batch, 3, size, size, generator=g).to(device)
    y = torch.rand(batch, 3, size, size, generator=g).to(device)
    return model, x, y


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class NnkitStep:
    """forward, MSE, backward, Adam with nnkit."""

    def __init__(self, model: Module, x: torch.Tensor, y: torch.Tensor, graph: bool) -> None:
        self.model, self.x, self.y = model, x, y
        self.loss_fn = MSELoss()
        self.opt = Adam(model.parameters(), lr=LR, capturable=graph)
        self.graphed: Callable[[], torch.Tensor] | None = None
        if graph:
            from nnkit.graph import GraphedStep

            def workspaces() -> list[torch.Tensor]:
                return [t for m in model.modules() for t in getattr(m, "_ws", {}).values()]

            self.graphed = GraphedStep(self._step, warmup=3, pin=workspaces)

    def _step(self) -> torch.Tensor:
        self.opt.zero_grad()
        out = self.model.forward(self.x)
        value = self.loss_fn.forward(out, self.y)
        self.model.backward(self.loss_fn.backward())
        self.opt.step()
        return value

    def __call__(self) -> torch.Tensor:
        return self.graphed() if self.graphed is not None else self._step()


@contextlib.contextmanager
def cuda_precision(tf32: bool) -> Iterator[None]:
    """Both sides in the same CUDA float32 mode: full FP32 (default), or TF32 tensor cores for both.

    torch's own defaults differ between its two paths (cuDNN convolutions may use TF32,
    cuBLAS matrix products may not), which would compare torch.nn in TF32 with nnkit in FP32.
    """
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def _quartiles(times: list[float]) -> tuple[float, float, float]:
    if len(times) < 4:
        med = statistics.median(times)
        return min(times), med, max(times)
    q1, med, q3 = statistics.quantiles(times, n=4)
    return q1, med, q3


def measure(
    arch: str,
    width: int,
    batch: int,
    size: int,
    device: torch.device,
    reps: int,
    warmup: int,
    graph: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    tf32: bool = False,
    torch_graph: bool = False,
) -> Point:
    """Time nnkit and torch steps of one configuration, interleaved, after ``warmup`` steps of each."""
    model, x, y = setup(arch, width, batch, size, device)
    with cuda_precision(tf32):
        theirs = TorchStep(model, x, y, torch_graph)  # the twin copies the initial weights before nnkit trains
        ours = NnkitStep(model, x, y, graph)
        first = abs(float(ours()) - float(theirs()))
        times = _interleaved({"nnkit": ours, "torch": theirs}, reps, warmup, device, clock)
    nq1, nmed, nq3 = _quartiles(times["nnkit"])
    tq1, tmed, tq3 = _quartiles(times["torch"])
    return Point(
        arch, width, batch, size, str(device), reps, nmed, nq1, nq3, tmed, tq1, tq3, first, graph, tf32, torch_graph
    )


def _interleaved(
    steps: dict[str, Callable[[], torch.Tensor]],
    reps: int,
    warmup: int,
    device: torch.device,
    clock: Callable[[], float],
) -> dict[str, list[float]]:
    """ms per call of each step: ``warmup`` untimed calls each, then ``reps`` timed ones, the order alternating."""
    for _ in range(warmup):
        for step in steps.values():
            step()
    _sync(device)
    names = list(steps)
    times: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names if rep % 2 == 0 else names[::-1]:
            _sync(device)
            t0 = clock()
            steps[name]()
            _sync(device)
            times[name].append((clock() - t0) * 1e3)
    return times


def _reps_for(batch: int, width: int, base: int) -> int:
    """Fewer repetitions for the slow points, so the grid finishes in minutes on 2 cores."""
    work = batch * width * width
    if work >= 1000 * 64 * 64:
        return max(3, base // 4)
    if work >= 1000 * 32 * 32:
        return max(3, base // 2)
    return base


def _mode(graph: bool, torch_graph: bool, tf32: bool) -> str:
    """How a point ran, for its label: which side was captured as a CUDA graph, and TF32."""
    label = " both graphed" if torch_graph else (" graph" if graph else "")
    return label + (" tf32" if tf32 else "")


QUICK_NOTE = (
    "--quick is a smoke run (2 timed steps after 1 warm-up): its times are dominated by first-call "
    "overhead, so no nnkit/torch ratio is shown; run without --quick to compare speeds"
)


def table(points: Sequence[Point], *, ratios: bool = True) -> str:
    """A markdown table of the points (the ratio column "—" when ``ratios`` is False)."""
    lines = [
        "| device | arch | width | batch | nnkit ms/step (IQR) | torch ms/step (IQR) | nnkit img/s | torch img/s "
        "| nnkit/torch |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in points:
        dev = p.device + _mode(p.graph, p.torch_graph, p.tf32)
        lines.append(
            f"| {dev} | {p.arch} | {p.width} | {p.batch} | {p.nnkit_ms:.2f} ({p.nnkit_q1:.2f}–{p.nnkit_q3:.2f}) "
            f"| {p.torch_ms:.2f} ({p.torch_q1:.2f}–{p.torch_q3:.2f}) | {p.batch / p.nnkit_ms * 1e3:.0f} "
            f"| {p.batch / p.torch_ms * 1e3:.0f} | {f'{p.ratio:.2f}' if ratios else '—'} |"
        )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark grid, print a markdown table, optionally write JSON."""
    parser = argparse.ArgumentParser(prog="denoise-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: batch 2, width 4, 2 repetitions")
    parser.add_argument("--batches", type=_ints, default=[10, 100, 1000])
    parser.add_argument("--widths", type=_ints, default=[32, 64])
    parser.add_argument(
        "--archs",
        default="report,report-way,unet",
        help="comma-separated: report, report-way (NearestUpsampling + Conv2d, as the report writes it), unet",
    )
    parser.add_argument("--unet", default="32:10,32:100", help="U-Net points width:batch (comma-separated)")
    parser.add_argument("--size", type=int, default=32, help="image side (square RGB)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="all", help="cpu, cuda or all (cuda only when present)")
    parser.add_argument("--graph", action="store_true", help="on CUDA also time nnkit captured as one CUDA graph")
    parser.add_argument(
        "--torch-graph", action="store_true", help="on CUDA also time both sides captured as CUDA graphs"
    )
    parser.add_argument(
        "--tf32", action="store_true", help="on CUDA let both sides use TF32 tensor cores (default: full FP32 for both)"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="wall: elapsed time; cpu: CPU time of this process (steadier on a machine shared with other jobs)",
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    problem = output_file_problem(args.out) if args.out else None
    if problem is not None:  # now, not after the whole grid: the results would be lost
        parser.error(problem)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.batches, args.widths, args.reps, args.warmup, args.size = [2], [4], 2, 1, 16
        args.unet = "4:2"
    if args.device not in ("cpu", "cuda", "all"):
        parser.error(f"--device must be cpu, cuda or all, got {args.device!r}")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this torch build sees no CUDA device (torch.cuda.is_available() is False)")
    devices = [torch.device("cpu")] if args.device in ("cpu", "all") else []
    if args.device in ("cuda", "all") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    archs = [a for a in args.archs.split(",") if a]
    grid: list[tuple[str, int, int]] = []
    for arch in ("report", "report-way"):
        if arch in archs:
            grid += [(arch, w, b) for w in args.widths for b in args.batches]
    if "unet" in archs:
        for item in args.unet.split(","):
            w, b = item.split(":")
            grid.append(("unet", int(w), int(b)))

    points: list[Point] = []
    for device in devices:
        for arch, width, batch in grid:
            reps = _reps_for(batch, width, args.reps) if device.type == "cpu" else args.reps
            modes = [(False, False)]
            if device.type == "cuda":
                modes += [(True, False)] if args.graph else []
                modes += [(True, True)] if args.torch_graph else []
            for graph, torch_graph in modes:
                clock = time.process_time if (args.clock == "cpu" and device.type == "cpu") else time.perf_counter
                tf32 = args.tf32 and device.type == "cuda"
                try:
                    p = measure(
                        arch, width, batch, args.size, device, reps, args.warmup, graph, clock, tf32, torch_graph
                    )
                except RuntimeError as error:
                    if not torch_graph:
                        raise
                    print(f"{device} both graphed {arch} w{width} b{batch}: torch's capture failed: {error}")
                    continue
                points.append(p)
                ratio = "" if args.quick else f", ratio {p.ratio:.2f}"
                print(
                    f"{p.device}{_mode(graph, torch_graph, tf32)} {arch} w{width} b{batch}: nnkit {p.nnkit_ms:.2f} ms, "
                    f"torch {p.torch_ms:.2f} ms{ratio} (first-step loss diff {p.first_loss_diff:.1e})",
                    flush=True,
                )
    info = machine()
    info["clock"] = args.clock
    print()
    print(f"Machine: {info}")
    print(table(points, ratios=not args.quick))
    if args.quick:
        print(QUICK_NOTE)
    if args.out:
        record = {"machine": info, "quick": bool(args.quick), "points": [p.row() for p in points]}
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomically(args.out, json.dumps(record, indent=2).encode("utf-8"))
        except OSError as exc:  # the table is printed above
            print(f"denoise-bench: error: {args.out}: {exc.strerror or exc} (the table is printed above)",
                  file=sys.stderr)
            return 1
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
