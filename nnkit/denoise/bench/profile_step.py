"""Where a training step's time goes: torch.profiler tables of the nnkit step and its torch.nn twin.

    python -m nnkit.denoise.bench.profile_step --arch unet --width 32 --batch 100 [--device cuda] [--tf32] [--top 15]

Both steps are those of the benchmark (nnkit.denoise.bench.step: forward, MSE, backward, Adam, same
weights and batch), run eagerly (a CUDA graph would hide the individual kernels), warmed
up, then profiled over ``--steps`` steps. Each table lists the operators (on CUDA: the
kernels' device time) with the largest self time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import torch
from torch.profiler import ProfilerActivity, profile

from nnkit.denoise.bench.step import NnkitStep, cuda_precision, setup
from nnkit.denoise.bench.twin_step import TorchStep


def profile_table(step: Callable[[], torch.Tensor], device: torch.device, steps: int, top: int) -> str:
    """The profiler's key-averages table of ``steps`` calls of ``step``, sorted by self time on ``device``."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    sort_by = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return str(prof.key_averages().table(sort_by=sort_by, row_limit=top, max_name_column_width=60))


def main(argv: Sequence[str] | None = None) -> int:
    """Profile one benchmark point, nnkit first, then torch.nn."""
    parser = argparse.ArgumentParser(prog="profile_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="report", choices=["report", "unet"])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tf32", action="store_true", help="CUDA: both sides may use TF32 (default: full FP32)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this torch build sees no CUDA device (torch.cuda.is_available() is False)")
    model, x, y = setup(args.arch, args.width, args.batch, args.size, device)
    with cuda_precision(args.tf32 and device.type == "cuda"):
        steps: dict[str, Callable[[], torch.Tensor]] = {
            "torch.nn + autograd": TorchStep(model, x, y),
            "nnkit": NnkitStep(model, x, y, graph=False),
        }
        for name in ("nnkit", "torch.nn + autograd"):
            for _ in range(args.warmup):
                steps[name]()
            print(f"== {name}: {args.arch} width {args.width} batch {args.batch} on {device}, {args.steps} steps")
            print(profile_table(steps[name], device, args.steps, args.top), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
