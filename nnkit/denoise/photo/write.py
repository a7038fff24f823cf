"""``save_like``: write a denoised result as its source photo was (depth, grey, alpha, ICC, EXIF).

What a format cannot hold is said in the notes returned (and never silently changed otherwise):
PNG holds 8 or 16 bits (a float photo is written 16-bit); JPEG holds 8-bit grey or RGB (no
alpha: it is dropped); WebP holds 8-bit RGB or RGBA (grey is written as RGB; lossless unless a
quality is given); TIFF holds everything. Writing is atomic (temporary file, then rename), and an
existing file is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from nnkit.denoise.photo.metadata import EXIF_PREFIX
from nnkit.denoise.photo.naming import format_name, format_of_path
from nnkit.denoise.photo.photo import Photo, file_samples
from nnkit.denoise.photo.png16 import write_png16
from nnkit.denoise.photo.tiff import write_tiff
from nnkit.denoise.tempfiles import write_file_atomically

JPEG_QUALITY = 95
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def save_like(
    photo: Photo,
    rgb: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    quality: int | None = None,
    overwrite: bool = False,
) -> tuple[Path, list[str]]:
    """Write result ``rgb`` (float (H, W, 3), [0, 1]) of ``photo`` to ``path`` as ``fmt`` (default: by suffix).

    Returns the path and notes on anything the format could not keep. FileExistsError if
    ``path`` exists and not ``overwrite``; ValueError for an unknown format or a bad array.
    """
    path = Path(path)
    fmt = format_name(fmt) if fmt is not None else format_of_path(path)
    rgb = np.asarray(rgb)
    if rgb.shape != photo.rgb.shape:
        raise ValueError(f"cannot write {str(path)!r}: result {rgb.shape} differs from the photo's {photo.rgb.shape}")
    if quality is not None and not 1 <= quality <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality}")
    if not overwrite and path.exists():
        raise FileExistsError(f"will not overwrite existing file {str(path)!r}")
    notes: list[str] = []
    write_file_atomically(path, lambda handle: _encode(handle, photo, rgb, fmt, quality, notes), overwrite=overwrite)
    return path, notes


def _encode(handle: BinaryIO, photo: Photo, rgb: np.ndarray, fmt: str, quality: int | None, notes: list[str]) -> None:
    dtype = np.dtype(photo.dtype)
    if fmt == "tiff":
        write_tiff(handle, file_samples(photo, rgb), grey=photo.grey, icc=photo.icc, exif=photo.exif)
        return
    if fmt == "png":
        if dtype == np.float32:
            notes.append("PNG has no float samples: written 16-bit (use --format tiff to keep float)")
            dtype = np.dtype(np.uint16)
        if dtype == np.uint16:
            write_png16(handle, file_samples(photo, rgb, dtype), icc=photo.icc, exif=photo.exif)
        else:
            _pillow(photo, rgb, False, False).save(handle, format="PNG", compress_level=6, **_meta(photo))
        return
    if dtype != np.uint8:
        notes.append(f"{fmt.upper()} holds 8 bits: the {photo.depth} photo is written 8-bit")
    if fmt == "jpeg":
        if photo.alpha is not None:
            notes.append("JPEG has no alpha: the transparency is dropped (use PNG, TIFF or WebP)")
        meta = _meta(photo)
        if "exif" in meta:
            meta["exif"] = EXIF_PREFIX + meta["exif"]  # a JPEG's APP1 segment starts so (Pillow adds nothing)
        image = _pillow(photo, rgb, True, False)
        image.save(handle, format="JPEG", quality=quality or JPEG_QUALITY, subsampling=0, **meta)
        return
    if photo.grey:
        notes.append("WebP has no grey: written as RGB")
    # exact: lossless WebP would otherwise change the colour of fully transparent pixels
    options = {"quality": quality} if quality is not None else {"lossless": True, "exact": True}
    _pillow(photo, rgb, False, True).save(handle, format="WEBP", **options, **_meta(photo))


def _pillow(photo: Photo, rgb: np.ndarray, drop_alpha: bool, colour: bool) -> Image.Image:
    """An 8-bit Pillow image of the result (grey stays grey unless ``colour``; alpha kept unless dropped)."""
    samples = file_samples(photo, rgb, np.dtype(np.uint8))
    if drop_alpha and photo.alpha is not None:
        samples = samples[:, :, :-1]
    if colour and photo.grey:
        samples = np.concatenate([np.repeat(samples[:, :, :1], 3, axis=2), samples[:, :, 1:]], axis=2)
    channels = samples.shape[2]
    return Image.fromarray(np.ascontiguousarray(samples[:, :, 0] if channels == 1 else samples), mode=_MODES[channels])


def _meta(photo: Photo) -> dict[str, bytes]:
    meta: dict[str, bytes] = {}
    if photo.icc:
        meta["icc_profile"] = photo.icc
    if photo.exif:
        meta["exif"] = photo.exif
    return meta
