"""Training throughput (images/s) of one process against data-parallel ``denoise-train --nproc N``.

    python -m nnkit.denoise.bench.parallel_throughput [--nproc 1,2] [--arch unet --width 16]
        [--batch-size 16 --crop-size 48 --epoch-size 512 --epochs 3] [--out result.json]

Each setting runs ``denoise-train`` as a user would (a fresh process tree each time, the
same RunConfig and the same global batch), and reads the images/s of its steps from
metrics.jsonl: the median over the steps after the first epoch (which pays for start-up).
On the CPU one process uses every core; N processes share them out (torch's launcher gives
each cores // N threads), so on a 2-core machine this measures the cost of the split, not a
speed-up: data parallelism pays with one GPU (or one machine) per process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def measure(nproc: int, flags: list[str]) -> dict[str, float]:
    """Run one training job with ``nproc`` processes; its median images/s after epoch 1."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "nnkit.denoise.cli.train_rank", *flags, "--quiet", "--out", str(out)]
        if nproc > 1:
            cmd += ["--nproc", str(nproc)]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise RuntimeError(f"denoise-train --nproc {nproc} failed: {result.stderr[-2000:]}")
        steps = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        rates = [s["images_per_s"] for s in steps if s["event"] == "step" and s["epoch"] > 1]
    return {"nproc": nproc, "images_per_s": statistics.median(rates), "steps_measured": len(rates)}


def main(argv: Sequence[str] | None = None) -> int:
    """Measure each --nproc setting in turn, print a table, optionally write JSON."""
    parser = argparse.ArgumentParser(prog="python -m nnkit.denoise.bench.parallel_throughput", description=__doc__)
    parser.add_argument("--nproc", default="1,2", help="comma-separated process counts (default: 1,2)")
    parser.add_argument("--arch", default="unet")
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--crop-size", type=int, default=48)
    parser.add_argument("--epoch-size", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not measured)")
    flags = [
        *("--arch", args.arch, "--width", str(args.width), "--batch-size", str(args.batch_size)),
        *("--crop-size", str(args.crop_size), "--epoch-size", str(args.epoch_size)),
        *("--epochs", str(args.epochs), "--device", args.device),
    ]
    rows = [measure(int(n), flags) for n in args.nproc.split(",")]
    base = rows[0]["images_per_s"]
    print(f"{args.arch} w{args.width}, global batch {args.batch_size}, {args.crop_size}px, {args.device}")
    print("| processes | images/s | vs first row |\n|---:|---:|---:|")
    for row in rows:
        print(f"| {row['nproc']} | {row['images_per_s']:.1f} | {row['images_per_s'] / base:.2f}× |")
    if args.out is not None:
        machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()}
        args.out.write_text(json.dumps({"machine": machine, "flags": flags, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
