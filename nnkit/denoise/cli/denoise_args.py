"""``denoise``'s command line: its flags, and the checks of their values that argparse cannot make."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

MAX_TILE = 1024  # a 1024² tile of the width-32 U-Net takes about 4 GB; larger ones would swap or fail
DEFAULT_OVERLAP = 32  # pixels; a tile under 64 gets tile/2, the most it allows (so --tile 8 works alone)


def build_denoise_parser() -> argparse.ArgumentParser:
    """The flags of ``denoise``, with their help."""
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
        type=output_format,
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
        default=True,
        help="leave a photo with (almost) no noise (almost) as it is: the result fades out below an estimated "
        "σ of 1 (with the mean correction; default: on)",
    )
    parser.add_argument("--recursive", "-r", action="store_true", help="look into sub-folders of folders too")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs (never an input)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only warnings and errors")
    return parser


def output_format(value: str) -> str:
    """--format's value as 'png', 'tiff', 'jpeg' or 'webp' (tif and jpg too, any case)."""
    from nnkit.denoise.photo import format_name

    try:
        return format_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def bad_tiling(args: argparse.Namespace) -> str:
    """What is wrong with --tile / --overlap, or '' (an omitted --overlap is set to what the tile allows)."""
    if not 8 <= args.tile <= MAX_TILE:
        return f"--tile must be between 8 and {MAX_TILE} pixels, got {args.tile}"
    if args.overlap is None:
        args.overlap = min(DEFAULT_OVERLAP, args.tile // 2)
    if not 0 <= args.overlap <= args.tile // 2:
        return f"--overlap must be in [0, tile/2 = {args.tile // 2}] for --tile {args.tile}, got {args.overlap}"
    return ""


def bad_level_flags(args: argparse.Namespace) -> str:
    """What is wrong with --sigma / --strength, or '' when both are fine."""
    if args.sigma is not None and not (math.isfinite(args.sigma) and 0 <= args.sigma <= 255):
        return f"--sigma must be a noise level in [0, 255], got {args.sigma:g}"
    if not (math.isfinite(args.strength) and 0 <= args.strength <= 1):
        return f"--strength must be in [0, 1], got {args.strength:g}"
    return ""
