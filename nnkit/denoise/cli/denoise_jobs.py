"""``denoise``'s work: each photo denoised into its output file, with a progress line and one line of report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nnkit.denoise.console_progress import ProgressLine, bar


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


def denoise_jobs(
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
