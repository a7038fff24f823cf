"""Denoise photo files: ``denoise_file`` writes ``<name>.denoised.<type>`` beside nothing it was not asked to.

Output files are named from the photo's name alone and keep its depth, alpha, colour profile
and EXIF (``nnkit.denoise.photo``): ``denoise_file`` never writes over its input, and refuses an
existing output unless ``overwrite=True``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nnkit.denoise.array_denoise import denoise_float
from nnkit.denoise.sigma_estimate import estimate_sigma
from nnkit.module import Module

OUTPUT_SUFFIX = ".denoised"  # result names: x.webp -> x.webp.denoised.png (nnkit.denoise.photo.naming)


def output_path(
    in_path: str | os.PathLike[str], out_dir: str | os.PathLike[str], out_format: str | None = None
) -> Path:
    """Where ``denoise_file`` writes the result of ``in_path``: ``out_dir/<name>.denoised.<type>``.

    Decided from the photo's name alone (``nnkit.denoise.photo.result_name``): ``x.webp`` ->
    ``x.webp.denoised.png``, so photos of the same stem never share a result.
    """
    from nnkit.denoise.photo import result_path

    return result_path(in_path, out_dir, out_format)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def denoise_file(
    model: Module,
    in_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    out_path: str | os.PathLike[str] | None = None,
    out_format: str | None = None,
    quality: int | None = None,
    on_image: Callable[[np.ndarray, float | None], None] | None = None,
    notes: list[str] | None = None,
    **tiling: Any,
) -> Path:
    """Denoise a photo file into ``output_path(in_path, out_dir, out_format)`` (or ``out_path``); never over the input.

    The result keeps the photo's depth, grey, alpha, colour profile and EXIF (``nnkit.denoise.photo``);
    ``out_format`` ('png', 'tiff', 'jpeg', 'webp'; default: by the output's suffix) and
    ``quality`` (JPEG, lossy WebP) choose the type. An existing output raises FileExistsError
    unless ``overwrite``; ``on_image`` is called with the photo in 8 bits once read and the noise σ
    the mean correction will use (given, or estimated here once; None without the correction);
    ``notes`` (a list) receives what the output could not keep;
    ``tiling`` goes to ``denoise_float``.
    """
    from nnkit.denoise.photo import read_photo, save_like

    source = Path(in_path)
    target = Path(out_path) if out_path is not None else output_path(source, out_dir, out_format)
    if _same_file(source, target) or source.resolve() == target.resolve():
        raise FileExistsError(f"will not overwrite the input image {str(source)!r} with its denoised version")
    if target.exists() and not overwrite:
        raise FileExistsError(f"output {str(target)!r} already exists (pass overwrite=True to replace it)")
    photo = read_photo(source)
    image8 = photo.rgb8()
    if tiling.get("noise_sigma") == "estimate":  # once, for the correction and for whoever reports it
        tiling["noise_sigma"] = estimate_sigma(image8)
    if on_image is not None:
        on_image(image8, tiling.get("noise_sigma"))
    result = denoise_float(model, photo.rgb, image8=image8, **tiling)
    written, lost = save_like(photo, result, target, fmt=out_format, quality=quality, overwrite=overwrite)
    if notes is not None:
        notes.extend([*photo.notes, *lost])
    return written
