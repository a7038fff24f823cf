"""``denoise``: denoise image files or folders with a checkpoint (the shipped one by default).

The flags are in ``denoise_args``, the finding of input files in ``denoise_inputs``, the work on
each photo (and its report line) in ``denoise_jobs``; this module runs them in that order.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _run_parser, plain_warnings
from nnkit.denoise.cli.denoise_args import (
    DEFAULT_OVERLAP,
    MAX_TILE,
    bad_level_flags,
    bad_tiling,
    build_denoise_parser,
)
from nnkit.denoise.cli.denoise_inputs import collect_jobs
from nnkit.denoise.cli.denoise_jobs import denoise_jobs
from nnkit.denoise.config import ConfigError

__all__ = ["DEFAULT_OVERLAP", "MAX_TILE", "build_denoise_parser", "denoise_main"]  # the flags live in denoise_args


def denoise_main(argv: Sequence[str] | None = None) -> int:
    """The ``denoise`` console script; returns the exit status."""
    with plain_warnings("denoise"):
        return _parse_and_denoise(argv)


def _parse_and_denoise(argv: Sequence[str] | None) -> int:
    parser = build_denoise_parser()
    args = _run_parser(parser, argv)
    if isinstance(args, int):
        return args
    bad_tiling_message = bad_tiling(args)
    if bad_tiling_message:
        parser.print_usage(sys.stderr)
        print(f"denoise: error: {bad_tiling_message}", file=sys.stderr)
        return EXIT_USAGE
    if args.quality is not None and not 1 <= args.quality <= 100:
        parser.print_usage(sys.stderr)
        print(f"denoise: error: --quality must be between 1 and 100, got {args.quality}", file=sys.stderr)
        return EXIT_USAGE
    if args.quality is not None and args.format not in ("jpeg", "webp"):
        print("denoise: warning: --quality is for --format jpeg or webp; ignored", file=sys.stderr)
    if args.out.exists() and not args.out.is_dir():
        print(f"denoise: error: -o {args.out}: exists and is not a folder", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _denoise_main(args, parser)
    except KeyboardInterrupt:  # outputs are written atomically: none is left half-written
        print("\ndenoise: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _denoise_main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:

    bad = bad_level_flags(args)
    if bad:
        parser.print_usage(sys.stderr)
        print(f"denoise: error: {bad}", file=sys.stderr)
        return EXIT_USAGE

    def warn(message: str) -> None:
        print(f"denoise: {message}" if message.startswith("error") else f"denoise: warning: {message}", file=sys.stderr)

    try:
        from nnkit.denoise.device import resolve_device

        resolve_device(args.device)
    except ConfigError as exc:
        parser.print_usage(sys.stderr)
        print(f"denoise: error: --device: {str(exc).removeprefix('device: ')}", file=sys.stderr)
        return EXIT_USAGE
    jobs, failures = collect_jobs(args.inputs, args.recursive, args.out, warn)
    if not jobs:
        print("denoise: error: nothing to denoise (no image files among the inputs)", file=sys.stderr)
        return EXIT_FAILED
    denoiser = _load_denoiser(args.checkpoint, args.device)
    if denoiser is None:
        return EXIT_FAILED
    denoiser.tile, denoiser.overlap, denoiser.orientations = args.tile, args.overlap, args.orientations
    denoiser.correct_means = args.mean_correction
    denoiser.fade_clean = args.fade
    if not args.quiet:
        print(f"model: {denoiser.describe()}", file=sys.stderr)
        if args.mean_correction and not denoiser.corrects_means:  # asked for (the default), but not Gaussian noise
            print("mean correction: off (the model is not one of Gaussian noise)", file=sys.stderr)
    written, failed = denoise_jobs(denoiser, jobs, args, warn)
    failures += failed
    if not args.quiet:
        print(f"denoised {written} of {len(jobs)} image(s) into {args.out}", file=sys.stderr)
    return EXIT_OK if written > 0 and failures == 0 else EXIT_FAILED


def _load_denoiser(checkpoint: Path | None, device: str) -> Any:
    from nnkit.denoise.checkpoint import CheckpointError
    from nnkit.denoise.inference import Denoiser

    try:
        return Denoiser.from_checkpoint(checkpoint, device=device)
    except FileNotFoundError as exc:
        hint = " (train one with denoise-train and pass --checkpoint)" if checkpoint is None else ""
        print(f"denoise: error: {exc}{hint}", file=sys.stderr)
    except (CheckpointError, ValueError, RuntimeError, OSError) as exc:
        print(f"denoise: error: {exc}", file=sys.stderr)
    return None
