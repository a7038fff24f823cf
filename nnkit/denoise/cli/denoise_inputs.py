"""``denoise``'s inputs: the image files named, and those found in the folders named."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

_OUTPUT_NAME = re.compile(r"_denoised(-\d+)?$")  # the stems denoise gives its outputs


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


def collect_jobs(
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
