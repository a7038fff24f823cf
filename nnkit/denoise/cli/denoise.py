"""``denoise``: denoise image files or folders with a checkpoint (the shipped one by default)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _run_parser, plain_warnings
from nnkit.denoise.config import ConfigError
from nnkit.denoise.console_progress import ProgressLine, bar

MAX_TILE = 1024  # a 1024² tile of the width-32 U-Net takes about 4 GB; larger ones would swap or fail
DEFAULT_OVERLAP = 32  # pixels; a tile under 64 gets tile/2, the most it allows (so --tile 8 works alone)
_OUTPUT_NAME = re.compile(r"_denoised(-\d+)?$")  # the stems denoise gives its outputs


def build_denoise_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="denoise",
        description="Denoise image files with a trained checkpoint (the shipped one by default). "
        "Writes <name>.denoised.<type> files (x.jpg -> x.jpg.denoised.png) that keep each photo's bit depth, "
        "grey, alpha, colour profile and EXIF; never writes over an input.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image files or folders of images")
    parser.add_argument("-o", "--out", type=Path, default=Path("denoised"), help="output folder (default: ./denoised)")
    parser.add_argument(
        "--format",
        type=_output_format,
        metavar="TYPE",
        help="output type: png, tiff, jpeg or webp (default: tiff for TIFF inputs, so 16-bit and float stay "
        "TIFF; png for the others, 8 or 16 bits as the input)",
    )
    parser.add_argument(
        "--quality",
        type=int,
        metavar="Q",
        help="JPEG quality 1-100 (default: 95), or lossy WebP at this quality (default: lossless WebP)",
    )
    parser.add_argument("--checkpoint", type=Path, metavar="CKPT", help="checkpoint file (default: the shipped one)")
    parser.add_argument(
        "--sigma",
        type=float,
        metavar="S",
        help="the photos' Gaussian noise level, 0-255 (default: estimated from each photo and printed)",
    )
    parser.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="1 = the model's output, 0 = the input, between: a blend (default: 1)",
    )
    parser.add_argument(
        "--tile", type=int, default=256, help=f"tile side in pixels, 8 to {MAX_TILE} (default: 256)"
    )
    parser.add_argument(
        "--overlap",
        type=int,
        help=f"overlap of neighbouring tiles, at most tile/2 (default: {DEFAULT_OVERLAP}, or tile/2 for smaller tiles)",
    )
    parser.add_argument("--device", default="auto", help="'auto', 'cpu', 'cuda' or 'cuda:N' (default: auto)")
    parser.add_argument(
        "--orientations",
        type=int,
        choices=(1, 2, 4, 8),
        default=1,
        help="average the outputs over this many flips and turns of each tile (slower; default: 1, off)",
    )
    parser.add_argument(
        "--mean-correction",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="give the result the noisy photo's local means (removes the colour cast of clipped dark and "
        "bright areas; models of Gaussian noise only; default: on)",
    )
    parser.add_argument(
        "--fade",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="leave a photo with (almost) no noise (almost) as it is: the result fades out below an estimated "
        "σ of 7 (with the mean correction; default: off, since the σ estimate reads camera noise too low)",
    )
    parser.add_argument("--recursive", "-r", action="store_true", help="look into sub-folders of folders too")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs (never an input)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")
    return parser


def _output_format(value: str) -> str:
    """--format's value as 'png', 'tiff', 'jpeg' or 'webp' (tif and jpg too, any case)."""
    from nnkit.denoise.photo import format_name

    try:
        return format_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _is_own_output(path: Path, out: Path) -> bool:
    """A file in the output folder (or below it) named like denoise's outputs (<name>.denoised.<type>, or
    the <stem>_denoised[-N].png of versions before 0.2)."""
    from nnkit.denoise.photo import is_result_name

    try:
        in_out = path.resolve().is_relative_to(out.resolve())
    except OSError:
        return False
    old = path.suffix.lower() == ".png" and _OUTPUT_NAME.search(path.stem) is not None
    return in_out and (is_result_name(path.name) or old)


def _folder_images(folder: Path, recursive: bool, out: Path, warn: Callable[[str], None]) -> Iterator[Path]:
    """Image files of a folder by suffix; other files, special files and earlier outputs are skipped, named."""
    from nnkit.denoise.imageio import IMAGE_SUFFIXES, special_file_kind

    entries = sorted(folder.rglob("*") if recursive else folder.iterdir())
    for path in entries:
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or path.is_dir():
            continue
        try:
            path.stat()
        except OSError as exc:  # a dangling link, a link loop, no permission
            warn(f"skipping {path}: cannot be read ({exc.strerror or type(exc).__name__})")
            continue
        kind = special_file_kind(path)
        if kind is not None:
            warn(f"skipping {path}: {kind}, not a regular file")
        elif _is_own_output(path, out):
            warn(f"skipping {path}: an output of denoise in the output folder (not denoised again)")
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            yield path
        else:
            warn(f"skipping {path}: not an image file (suffix {path.suffix or 'none'!r})")


def _collect(
    inputs: Sequence[Path], recursive: bool, out: Path, warn: Callable[[str], None]
) -> tuple[list[tuple[Path, bool]], int]:
    """(path, named explicitly) jobs for the inputs, and the count of inputs that cannot be used."""
    from nnkit.denoise.imageio import special_file_kind

    jobs: dict[Path, tuple[Path, bool]] = {}  # by resolved path: an image named twice is denoised once
    missing = 0
    for item in inputs:
        kind = special_file_kind(item)
        if kind is not None:
            warn(f"error: {item}: {kind}, not an image file")
            missing += 1
        elif item.is_dir():
            found = list(_folder_images(item, recursive, out, warn))
            if not found:
                warn(f"no image files in folder {item}")
            for path in found:
                jobs.setdefault(path.resolve(), (path, False))
        elif item.is_file():
            jobs[item.resolve()] = (jobs.get(item.resolve(), (item, True))[0], True)
        else:
            warn(f"error: {item}: no such file or folder")
            missing += 1
    return list(jobs.values()), missing


def denoise_main(argv: Sequence[str] | None = None) -> int:
    """The ``denoise`` console script; returns the exit status."""
    with plain_warnings("denoise"):
        return _parse_and_denoise(argv)


def _parse_and_denoise(argv: Sequence[str] | None) -> int:
    parser = build_denoise_parser()
    args = _run_parser(parser, argv)
    if isinstance(args, int):
        return args
    bad_tiling = _bad_tiling(args)
    if bad_tiling:
        parser.print_usage(sys.stderr)
        print(f"denoise: error: {bad_tiling}", file=sys.stderr)
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

    bad = _bad_level_flags(args)
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
    jobs, failures = _collect(args.inputs, args.recursive, args.out, warn)
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
    written, failed = _denoise_jobs(denoiser, jobs, args, warn)
    failures += failed
    if not args.quiet:
        print(f"denoised {written} of {len(jobs)} image(s) into {args.out}", file=sys.stderr)
    return EXIT_OK if written > 0 and failures == 0 else EXIT_FAILED


def _bad_tiling(args: argparse.Namespace) -> str:
    """What is wrong with --tile / --overlap, or '' (an omitted --overlap is set to what the tile allows)."""
    if not 8 <= args.tile <= MAX_TILE:
        return f"--tile must be between 8 and {MAX_TILE} pixels, got {args.tile}"
    if args.overlap is None:
        args.overlap = min(DEFAULT_OVERLAP, args.tile // 2)
    if not 0 <= args.overlap <= args.tile // 2:
        return f"--overlap must be in [0, tile/2 = {args.tile // 2}] for --tile {args.tile}, got {args.overlap}"
    return ""


def _bad_level_flags(args: argparse.Namespace) -> str:
    """What is wrong with --sigma / --strength, or '' when both are fine."""
    import math

    if args.sigma is not None and not (math.isfinite(args.sigma) and 0 <= args.sigma <= 255):
        return f"--sigma must be a noise level in [0, 255], got {args.sigma:g}"
    if not (math.isfinite(args.strength) and 0 <= args.strength <= 1):
        return f"--strength must be in [0, 1], got {args.strength:g}"
    return ""


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


def _subfolder(path: Path, explicit: bool, folders: Sequence[Path]) -> Path:
    """Where below -o a photo's result goes: a photo found in a folder's sub-folder (--recursive) keeps
    that sub-folder, so that same-named photos of two sub-folders keep their own results."""
    if explicit:
        return Path()
    for folder in folders:
        if path.is_relative_to(folder):
            return path.parent.relative_to(folder)
    return Path()


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder) for folder in folders)


def _denoise_jobs(
    denoiser: Any, jobs: list[tuple[Path, bool]], args: argparse.Namespace, warn: Callable[[str], None]
) -> tuple[int, int]:
    """Denoise each job; returns (written, failed). Unreadable files found in folders are skipped, not failures."""
    from nnkit.denoise.imageio import ImageReadError
    from nnkit.denoise.inference import output_path
    from nnkit.denoise.out_of_memory import allocation_failed, is_out_of_memory
    from nnkit.denoise.sigma_estimate import ImageTooSmall

    inputs = {p.resolve() for p, _ in jobs}
    input_dirs = [item.resolve() for item in args.inputs if item.is_dir()]  # files there are inputs, outputs too
    folders = [item for item in args.inputs if item.is_dir()]
    taken: dict[Path, Path] = {}  # result -> the photo it is of
    written = failed = 0
    line = ProgressLine(sys.stderr, enabled=not args.quiet)
    for index, (path, explicit) in enumerate(jobs, 1):
        target = output_path(path, args.out / _subfolder(path, explicit, folders), args.format)
        other = taken.get(target.resolve())
        if other is not None:  # the same file name from two folders: neither result may replace the other
            warn(
                f"error: {path}: its output {target} is that of {other} too (the same file name); "
                "denoise one of them into another -o folder"
            )
            failed += 1
            continue
        if target.resolve() in inputs or (target.exists() and _inside(target, input_dirs)):
            warn(f"error: {path}: its output {target} is one of the inputs; choose another -o folder")
            failed += 1
            continue
        if target.exists() and not args.overwrite:
            warn(f"{path}: output {target} exists already, left alone (use --overwrite to replace it)")
            failed += 1
            continue
        taken[target.resolve()] = path
        start = time.perf_counter()

        def progress(done: int, total: int, name: str = path.name, i: int = index) -> None:
            line.update(f"[{i}/{len(jobs)}] {name} {bar(done / total)} tile {done}/{total}")

        sigma: list[str] = []
        lost: list[str] = []
        size: list[str] = []  # "W × H" once the photo is read: named if it does not fit in memory

        def note_sigma(image: Any, used: float | None, notes: list[str] = sigma, size: list[str] = size) -> None:
            size.append(f"{image.shape[1]} × {image.shape[0]}")
            if args.sigma is not None:
                notes.append(f"noise σ {args.sigma:g} (given)")
            else:  # the correction's estimate when there is one, so it is made once
                estimate = used if used is not None else denoiser.estimate_sigma(image)
                notes.append(f"noise σ ≈ {estimate:.1f} (estimated)")

        try:
            out = denoiser.denoise_file(
                path,
                args.out,
                out_path=target,
                overwrite=args.overwrite,
                progress=progress,
                on_image=note_sigma,
                strength=args.strength,
                sigma=args.sigma,
                out_format=args.format,
                quality=args.quality,
                notes=lost,
            )
        except ImageReadError as exc:
            line.clear()
            if explicit:
                warn(f"error: {exc}")
                failed += 1
            else:
                warn(f"skipping {path}: {exc.reason}")
            continue
        except ImageTooSmall as exc:
            line.clear()
            warn(f"error: {path}: {exc} (give --sigma to denoise it without the estimate)")
            failed += 1
            continue
        except (OSError, ValueError) as exc:
            line.clear()
            warn(f"error: {path}: {exc}")
            failed += 1
            continue
        except (MemoryError, RuntimeError) as exc:
            if not isinstance(exc, MemoryError) and not is_out_of_memory(exc):
                raise
            line.clear()
            photo = f"this {size[0]} photo" if size else "it"
            warn(f"error: {path}: not enough memory to denoise {photo} ({allocation_failed(exc)}); skipped")
            failed += 1
            continue
        written += 1
        for note in lost:
            line.clear()
            warn(f"{path}: {note}")
        took = f"{time.perf_counter() - start:.1f} s"
        line.finish_line(f"[{index}/{len(jobs)}] {path} -> {out} ({', '.join([*sigma, took])})")
    return written, failed
