"""``denoise-gradcheck``: check a denoising network's hand-written backward pass layer by layer.

Prints nnkit.gradcheck.check_model's table (one row per layer and one for the input: the max
relative error against torch autograd on the twin and against central differences) and exits
1 if any row is not ok. ``--break-layer NAME`` makes that layer's backward 1% wrong on purpose,
to see what a bug looks like.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from nnkit import Module
from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, _run_parser
from nnkit.denoise.config import ARCHS
from nnkit.denoise.inspection import gradcheck_denoiser, model_for_gradcheck
from nnkit.gradcheck import GradcheckRow, deliberately_wrong

GREEN, RED, RESET = "\033[32m", "\033[31m", "\033[0m"


def build_gradcheck_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise-gradcheck",
        description="Check nnkit's hand-written backward pass of a denoising network, layer by layer, "
        "against torch autograd on its torch.nn twin and against central differences (float64). "
        "Exits 1 if any row is not ok.",
        epilog="example: denoise-gradcheck --arch report --width 8 --break-layer inner.3",
    )
    parser.add_argument("--arch", choices=ARCHS, default="report", help="network (default: report)")
    parser.add_argument("--width", type=int, default=8, help="channels of the first layer (default: 8)")
    parser.add_argument("--batch-size", type=int, default=2, help="images in the batch (default: 2)")
    parser.add_argument("--size", type=int, default=16, help="side of the square input images (default: 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the images (default: 0)")
    parser.add_argument("--checkpoint", type=Path, metavar="CKPT", help="check the network of this checkpoint")
    parser.add_argument("--samples", type=int, default=6, help="entries per tensor for central differences")
    parser.add_argument("--break-layer", metavar="NAME", help="make this layer's backward 1%% wrong (a demo)")
    parser.add_argument("--no-color", action="store_true", help="no colours, even on a terminal")
    return parser


def _model(args: argparse.Namespace) -> Module:
    if args.checkpoint is not None:
        from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint

        return model_from_checkpoint(load_checkpoint(args.checkpoint)).train()
    return model_for_gradcheck(args.arch, args.width, args.seed)


def format_table(rows: Sequence[GradcheckRow], *, color: bool) -> str:
    """The rows as an aligned text table, bad rows in red and good ones in green when ``color``."""
    width = max(len("layer"), *(len(r.name) for r in rows))
    kind = max(len("kind"), *(len(r.kind) for r in rows))
    lines = [f"{'layer':<{width}}  {'kind':<{kind}}  {'vs autograd':>11}  {'vs numeric':>10}  ok"]
    for r in rows:
        autograd = "no twin" if math.isnan(r.vs_autograd) else f"{r.vs_autograd:.2e}"
        line = (
            f"{r.name:<{width}}  {r.kind:<{kind}}  {autograd:>11}  {r.vs_numeric:>10.2e}  {'ok' if r.ok else 'WRONG'}"
        )
        lines.append(f"{GREEN if r.ok else RED}{line}{RESET}" if color else line)
    return "\n".join(lines)


def gradcheck_main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """The ``denoise-gradcheck`` console script; returns the exit status."""
    out = out if out is not None else sys.stdout
    parser = build_gradcheck_parser()
    args = _run_parser(parser, argv)
    if isinstance(args, int):
        return args
    minimum = {"width": 1, "batch_size": 1, "size": 4, "samples": 1}
    bad = [f"--{n.replace('_', '-')} must be at least {m}" for n, m in minimum.items() if getattr(args, n) < m]
    if bad:
        parser.print_usage(sys.stderr)
        print(f"denoise-gradcheck: error: {'; '.join(bad)}", file=sys.stderr)
        return EXIT_USAGE
    from nnkit.denoise.checkpoint import CheckpointError

    try:
        model = _model(args)
    except (CheckpointError, OSError) as exc:
        print(f"denoise-gradcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.break_layer is not None:
        layers = dict(model.named_modules())
        if args.break_layer not in layers or layers[args.break_layer]._modules:
            leaves = ", ".join(name for name, m in model.named_modules() if not m._modules)
            print(
                f"denoise-gradcheck: error: --break-layer {args.break_layer!r} is not a layer (layers: {leaves})",
                file=sys.stderr,
            )
            return EXIT_USAGE
        deliberately_wrong(layers[args.break_layer])
    rows = gradcheck_denoiser(model, batch=args.batch_size, size=args.size, seed=args.seed, samples=args.samples)
    color = not args.no_color and out.isatty()
    print(format_table(rows, color=color), file=out)
    wrong = [r.name for r in rows if not r.ok]
    print(
        f"{len(rows) - len(wrong)} of {len(rows)} rows ok" + (f"; wrong: {', '.join(wrong)}" if wrong else ""), file=out
    )
    return EXIT_FAILED if wrong else EXIT_OK


if __name__ == "__main__":
    sys.exit(gradcheck_main())
