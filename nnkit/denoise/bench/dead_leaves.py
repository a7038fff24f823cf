"""How fast clean training crops are made: dead-leaves images beside photo crops, one process.

    python -m nnkit.denoise.bench.dead_leaves [--sizes 32,64,96] [--batch 16] [--repeats 7] [--threads 1]

For each crop size: dead-leaves images per second (``dead_leaves``) and, for comparison, the
built-in source's augmented photo crops per second (``SyntheticPairs.photo_crops``), the two
interleaved, medians of ``--repeats`` batches of ``--batch``. Wall clock and process CPU time
are both printed: on a shared machine the CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable, Sequence

import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import dead_leaves, load_data


def _timed(makers: Sequence[Callable[[], object]], repeats: int) -> list[tuple[float, float]]:
    """Median (wall, cpu) seconds of one call of each maker, the makers called in turn ``repeats`` times."""
    for make in makers:
        make()  # warm-up
    times: list[list[tuple[float, float]]] = [[] for _ in makers]
    for _ in range(repeats):
        for make, samples in zip(makers, times, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            make()
            samples.append((time.perf_counter() - wall, time.process_time() - cpu))
    return [(statistics.median(w for w, _ in s), statistics.median(c for _, c in s)) for s in times]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="32,64,96", help="crop sides, comma-separated")
    parser.add_argument("--batch", type=int, default=16, help="images per call")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), batches of {args.batch}")
    print("| crop | dead leaves img/s (wall) | (CPU) | photo crops img/s (wall) | (CPU) |")
    print("|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        generator = torch.Generator().manual_seed(0)
        photos = load_data(RunConfig(crop_size=size, epoch_size=args.batch, batch_size=args.batch))
        makers = [
            functools.partial(dead_leaves, args.batch, size, generator),
            functools.partial(photos.photo_crops, args.batch, generator),  # type: ignore[attr-defined]
        ]
        (leaves_wall, leaves_cpu), (photo_wall, photo_cpu) = _timed(makers, args.repeats)
        b = args.batch
        print(f"| {size} | {b / leaves_wall:.0f} | {b / leaves_cpu:.0f} | {b / photo_wall:.0f} | {b / photo_cpu:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
