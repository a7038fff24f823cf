"""``denoise-experiments``: regenerate the course report's tables on the built-in data.

Four tables, all with the report's network (``arch="report"``), Gaussian noise σ=25,
32×32 training crops without augmentation (the course data had none) and Noise2Noise
targets unless the table varies it:

1. initialisation: constant 1.0, constant 1e-3, He → validation PSNR;
2. SGD (plain: no momentum, as in the report) vs Adam over batch {10, 100} × lr {1e-2, 1e-3, 1e-4};
3. the nnkit engine vs the torch.nn twin: same config and seed → PSNR, time, images/s, and the
   largest relative difference between their per-step training losses;
4. Noise2Noise (noisy targets) vs Noise2Clean (clean targets).

Tables 1, 3 and 4 use Adam, lr 1e-3, batch 16. The PSNR is the trainer's validation PSNR after
the last epoch (fixed 96×96 crops of the held-out photos, fixed noise).

Sizes (``Sizes``): the full mode trains width 32, 5 epochs of 2000 crops per run, 19 runs
(190 000 crop passes in all). Measured: about 15 minutes on a 2-core CPU shared with other
work (one torch thread, 25-95 s a run); 8-10 s a run when the machine was quiet.
``--quick`` trains width 4, 1 epoch of 200 crops per run, for CI (5-10 s in all).

``REPORT_NUMBERS`` holds the report's own numbers where they are known. They are not
available to this project, so every entry is None and the tables print "—" in the report
column; the orderings the report found are printed under each table and checked.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.events import Epoch, Event, Started, Step
from nnkit.denoise.tempfiles import output_file_problem, write_bytes_atomically

# The report's numbers, keyed by (table, row). Unknown here: None prints as "—". Do not guess them.
REPORT_NUMBERS: dict[tuple[str, str], float | None] = {
    **{("init", name): None for name in ("constant_1", "constant_1e-3", "he")},
    **{
        ("optim", f"{opt} b{batch} lr{lr:g}"): None
        for opt in ("sgd", "adam")
        for batch in (10, 100)
        for lr in (1e-2, 1e-3, 1e-4)
    },
    **{("engine", name): None for name in ("nnkit", "torch")},
    **{("target", name): None for name in ("noisy", "clean")},
}
REPORT_FINDINGS = {
    "init": "He ≥ constant 1e-3 ≫ constant 1.0",
    "optim": "Adam above SGD at most settings",
    "engine": "nnkit ≈ torch.nn (the report's own table differs by up to 0.9 dB)",
    "target": "Noise2Noise within a few tenths of a dB of Noise2Clean (the Noise2Noise paper's claim)",
}
INITS = ("constant_1", "constant_1e-3", "he")
BATCHES = (10, 100)
LRS = (1e-2, 1e-3, 1e-4)
TABLES = ("init", "optim", "engine", "target")


@dataclass(frozen=True)
class Sizes:
    """How big each training run is."""

    width: int
    epochs: int
    epoch_size: int
    batch_size: int  # tables 1, 3, 4 (table 2 sets its own)


FULL = Sizes(width=32, epochs=5, epoch_size=2000, batch_size=16)
QUICK = Sizes(width=4, epochs=1, epoch_size=200, batch_size=20)


@dataclass
class RunResult:
    """What one training run gave."""

    config: RunConfig
    reason: str = ""
    message: str = ""
    val_psnr: float = float("nan")
    noisy_psnr: float = float("nan")
    seconds: float = float("nan")
    images_per_s: float = float("nan")
    losses: list[float] = field(default_factory=list)


def base_config(sizes: Sizes, *, device: str = "auto", seed: int = 0) -> RunConfig:
    """The report's setting at the given sizes: report network, He init, Adam 1e-3, σ=25, N2N, no augmentation."""
    return RunConfig(
        arch="report",
        width=sizes.width,
        init="he",
        optimizer="adam",
        lr=1e-3,
        batch_size=sizes.batch_size,
        epochs=sizes.epochs,
        epoch_size=sizes.epoch_size,
        crop_size=32,
        noise="gaussian",
        noise_level=25.0,
        target="noisy",
        augment=False,
        engine="nnkit",
        device=device,
        seed=seed,
    )


def run_one(config: RunConfig) -> RunResult:
    """Train one run to the end and collect its final validation PSNR, time and losses."""
    from nnkit.denoise.trainer import Trainer

    result = RunResult(config)
    speeds: list[float] = []

    def on_event(event: Event) -> None:
        if isinstance(event, Started):
            result.noisy_psnr = event.noisy_psnr
        elif isinstance(event, Step):
            result.losses.append(event.loss)
            speeds.append(event.images_per_s)
        elif isinstance(event, Epoch) and event.epoch > 0:
            result.val_psnr = event.val_psnr

    start = time.perf_counter()
    finished = Trainer(config, on_event).run()
    result.seconds = time.perf_counter() - start
    result.reason, result.message = finished.reason, finished.message
    if speeds:
        result.images_per_s = statistics.median(speeds)
    return result


# -- formatting ---------------------------------------------------------------------------------
def _db(value: float | None) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.2f}"


def _psnr_cell(result: RunResult) -> str:
    if result.reason == "diverged":
        return "diverged"
    if result.reason not in ("done", "stopped"):
        return f"{result.reason} ({result.message.replace('|', '/')})"
    return _db(result.val_psnr)


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ordering(ok: bool | None, results: Sequence[RunResult] = ()) -> str:
    """The verdict on a finding, only where the numbers can carry one.

    A comparison of denoisers none of which beats its noisy input (a --quick run, or runs far
    too short) says nothing about which training works better: "cannot tell", never "reproduced".
    """
    learned = [r for r in results if math.isfinite(r.val_psnr) and r.val_psnr > r.noisy_psnr]
    if ok is not None and results and not learned:
        noisy = next((r.noisy_psnr for r in results if math.isfinite(r.noisy_psnr)), float("nan"))
        return f"cannot tell (no run beats the noisy input's {_db(noisy)} dB: too short to compare)"
    return {True: "reproduced", False: "NOT reproduced", None: "cannot tell (a run failed)"}[ok]


def _greater(a: RunResult, b: RunResult, margin: float = 0.0) -> bool | None:
    if not (math.isfinite(a.val_psnr) and math.isfinite(b.val_psnr)):
        return None
    return a.val_psnr >= b.val_psnr + margin


# -- the four tables ------------------------------------------------------------------------------
Runner = Callable[[RunConfig, str], RunResult]


def table_init(base: RunConfig, run: Runner) -> list[str]:
    results = {name: run(base.replace(init=name), f"init {name}") for name in INITS}
    rows = [[name, _psnr_cell(r), _db(REPORT_NUMBERS[("init", name)])] for name, r in results.items()]
    he, small, one = results["he"], results["constant_1e-3"], results["constant_1"]
    both = [_greater(he, small), _greater(small, one, 1.0)]
    ok = None if None in both else all(both)
    return [
        f"### 1. Initialisation (Adam, lr {base.lr:g}, batch {base.batch_size}, {_epochs(base.epochs)})",
        "",
        *_table(["initialisation", "val PSNR (dB)", "report (dB)"], rows),
        "",
        f"Report: {REPORT_FINDINGS['init']} — here: {_ordering(ok, list(results.values()))}.",
    ]


def table_optim(base: RunConfig, run: Runner) -> list[str]:
    rows, wins, cells = [], 0, 0
    runs: list[RunResult] = []
    for batch in BATCHES:
        for lr in LRS:
            pair = {}
            for opt in ("sgd", "adam"):
                cfg = base.replace(optimizer=opt, lr=lr, batch_size=batch, momentum=0.0, nesterov=False)
                pair[opt] = run(cfg, f"{opt} batch {batch} lr {lr:g}")
                runs.append(pair[opt])
            for opt in ("sgd", "adam"):
                key = ("optim", f"{opt} b{batch} lr{lr:g}")
                name = "SGD" if opt == "sgd" else "Adam"
                rows.append([name, str(batch), f"{lr:g}", _psnr_cell(pair[opt]), _db(REPORT_NUMBERS[key])])
            better = _greater(pair["adam"], pair["sgd"])
            if better is not None:
                cells, wins = cells + 1, wins + int(better)
    ok = None if cells == 0 else wins * 2 > cells
    return [
        f"### 2. SGD (no momentum) vs Adam, {_epochs(base.epochs)} of {base.epoch_size} crops",
        "",
        *_table(["optimiser", "batch", "lr", "val PSNR (dB)", "report (dB)"], rows),
        "",
        f"Report: {REPORT_FINDINGS['optim']} — here Adam is above SGD in {wins} of {cells} settings: "
        f"{_ordering(ok, runs)}.",
    ]


def _max_rel_diff(a: list[float], b: list[float]) -> float:
    n = min(len(a), len(b))
    if n == 0 or len(a) != len(b):
        return float("nan")
    return max(abs(x - y) / max(abs(y), 1e-30) for x, y in zip(a[:n], b[:n], strict=True))


def table_engine(base: RunConfig, run: Runner) -> list[str]:
    results = {name: run(base.replace(engine=name), f"engine {name}") for name in ("nnkit", "torch")}
    rows = [
        [
            name if name == "nnkit" else "torch.nn twin",
            _psnr_cell(r),
            f"{r.seconds:.1f}",
            "—" if not math.isfinite(r.images_per_s) else f"{r.images_per_s:.0f}",
            _db(REPORT_NUMBERS[("engine", name)]),
        ]
        for name, r in results.items()
    ]
    a, b = results["nnkit"], results["torch"]
    gap = abs(a.val_psnr - b.val_psnr)
    drift = _max_rel_diff(a.losses, b.losses)
    ok = None if not math.isfinite(gap) else gap <= 0.05
    return [
        f"### 3. nnkit vs torch.nn (same config and seed, {base.dtype}, {_epochs(base.epochs)})",
        "",
        *_table(["engine", "val PSNR (dB)", "run time (s)", "images/s", "report (dB)"], rows),
        "",
        f"PSNR gap {_db(gap)} dB; largest relative difference of the per-step training losses: {drift:.1e}.",
        f"Report: {REPORT_FINDINGS['engine']} — here (within 0.05 dB): {_ordering(ok)}.",
    ]


def table_target(base: RunConfig, run: Runner) -> list[str]:
    results = {name: run(base.replace(target=name), f"target {name}") for name in ("noisy", "clean")}
    label = {"noisy": "Noise2Noise (noisy targets)", "clean": "Noise2Clean (clean targets)"}
    rows = [[label[n], _psnr_cell(r), _db(REPORT_NUMBERS[("target", n)])] for n, r in results.items()]
    gap = results["clean"].val_psnr - results["noisy"].val_psnr
    ok = None if not math.isfinite(gap) else abs(gap) <= 0.3
    return [
        f"### 4. Noise2Noise vs Noise2Clean ({_epochs(base.epochs)})",
        "",
        *_table(["targets", "val PSNR (dB)", "report (dB)"], rows),
        "",
        f"N2C − N2N = {gap:+.2f} dB. Expected: {REPORT_FINDINGS['target']} — here (within 0.3 dB): "
        f"{_ordering(ok, list(results.values()))}.",
    ]


BUILDERS: dict[str, Callable[[RunConfig, Runner], list[str]]] = {
    "init": table_init,
    "optim": table_optim,
    "engine": table_engine,
    "target": table_target,
}


def run_experiments(
    sizes: Sizes,
    *,
    device: str = "auto",
    seed: int = 0,
    tables: Sequence[str] = TABLES,
    log: Callable[[str], None] | None = None,
) -> str:
    """Run the chosen tables and return the markdown text."""
    base = base_config(sizes, device=device, seed=seed)
    noisy: list[float] = []
    count = [0]
    start = time.perf_counter()

    def run(config: RunConfig, label: str) -> RunResult:
        count[0] += 1
        result = run_one(config)
        noisy.append(result.noisy_psnr)
        if log is not None:
            log(f"[{count[0]}] {label}: {_psnr_cell(result)} (dB) in {result.seconds:.1f} s")
        return result

    sections = [BUILDERS[name](base, run) for name in tables]
    total = time.perf_counter() - start
    head = [
        "## The report's tables, regenerated",
        "",
        f"Report network width {sizes.width}; {_epochs(sizes.epochs)} of {sizes.epoch_size} random 32×32 crops of the "
        f"built-in training photos (no augmentation); Gaussian noise σ=25; seed {seed}; device {device}.",
        f"Validation: the trainer's fixed 96×96 crops of the held-out photos; noisy input "
        f"{_db(noisy[0] if noisy else float('nan'))} dB.",
        f"{count[0]} runs in {total / 60:.1f} min on {platform.machine()} with torch {torch.__version__}, "
        f'{torch.get_num_threads()} threads. The report column is "—" where the report\'s numbers are not known.',
    ]
    body: list[str] = head
    for section in sections:
        body += ["", *section]
    return "\n".join(body) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise-experiments",
        description="Regenerate the course report's tables (initialisation, SGD vs Adam, nnkit vs torch.nn, "
        "Noise2Noise vs Noise2Clean) on the built-in data and print them as markdown.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny runs (width 4, 1 epoch of 200 crops) for CI")
    parser.add_argument(
        "--out", type=Path, default=Path("experiments.md"), help="markdown file to write (default: experiments.md)"
    )
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:N' (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of every run (default: 0)")
    parser.add_argument(
        "--tables", default=",".join(TABLES), help=f"comma-separated subset of {', '.join(TABLES)} (default: all)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``denoise-experiments`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = [t for t in tables if t not in TABLES]
    if unknown or not tables:
        print(f"denoise-experiments: error: --tables: unknown {unknown} (use {', '.join(TABLES)})", file=sys.stderr)
        return 2
    problem = output_file_problem(args.out)  # now, not after the whole run: the results would be lost
    if problem is not None:
        print(f"denoise-experiments: error: {problem}", file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    try:
        base_config(sizes, device=args.device, seed=args.seed)
        from nnkit.denoise.device import resolve_device

        resolve_device(args.device)
    except ConfigError as exc:
        print(f"denoise-experiments: error: {exc}", file=sys.stderr)
        return 2

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    text = run_experiments(sizes, device=args.device, seed=args.seed, tables=tables, log=log)
    print(text)
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(args.out, text.encode("utf-8"))
    except OSError as exc:  # e.g. the disk filled during the run: the tables are on stdout above
        print(f"denoise-experiments: error: {args.out}: {exc.strerror or exc} (the tables are printed above)",
              file=sys.stderr)
        return 1
    print(f"written to {args.out}", file=sys.stderr)
    return 0
