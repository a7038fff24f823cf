"""``read_photo``: a photo file as a ``Photo``, losing nothing that can be written back.

PNG, JPEG, WebP, BMP and single-frame GIF through Pillow (16-bit colour PNG through
``png16``); TIFF through tifffile (8/16-bit and float samples), or Pillow for the compressions
tifffile cannot decode without imagecodecs (LZW, JPEG) when the samples are 8-bit. Animations
and multi-page files are refused with one line (denoising their first frame silently was the
old behaviour); an MPO (a JPEG with extra pictures, such as a phone's depth map) is read as
its main picture.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from nnkit.denoise.imageio import MAX_PIXELS, ImageReadError, check_regular, open_checked
from nnkit.denoise.photo.metadata import orientation, reset_orientation, strip_prefix, upright
from nnkit.denoise.photo.photo import Photo, from_grey, to_float
from nnkit.denoise.photo.png16 import is_png16, png16_layout, read_png16
from nnkit.denoise.photo.tiff import TiffError, is_tiff, read_tiff, read_tiff_exif

_GREY_16 = ("I;16", "I;16L", "I;16B", "I;16N")


def read_photo(path: str | os.PathLike[str]) -> Photo:
    """Read a photo file (its content decides the format); ImageReadError naming it and why if it cannot."""
    path = Path(path)
    check_regular(path)
    notes: list[str] = []
    try:
        tiff = is_tiff(str(path))
    except OSError as exc:
        raise ImageReadError(path, exc.strerror or str(exc)) from None
    if tiff:
        samples, grey, icc, exif, fmt = _read_tiff(path, notes)
    else:
        samples, grey, icc, exif, fmt = _read_pillow(path, notes)
    turn = orientation(exif)
    if turn != 1:
        samples = upright(samples, turn)
    colour_channels = 1 if grey else 3
    colour = to_float(np.ascontiguousarray(samples[:, :, :colour_channels]))
    alpha = np.ascontiguousarray(samples[:, :, colour_channels]) if samples.shape[2] > colour_channels else None
    return Photo(
        rgb=from_grey(colour[:, :, 0]) if grey else colour,
        dtype=samples.dtype,
        grey=grey,
        alpha=alpha,
        icc=icc or None,
        exif=reset_orientation(exif) if exif else None,
        source_format=fmt,
        source=path,
        notes=notes,
    )


_Read = tuple[np.ndarray, bool, "bytes | None", "bytes | None", str]


def _read_tiff(path: Path, notes: list[str]) -> _Read:
    """A TIFF through tifffile, or through Pillow when tifffile cannot decode an 8-bit one."""
    try:
        samples, grey, icc = read_tiff(str(path), MAX_PIXELS)
    except TiffError as exc:
        fallback = _pillow_tiff_fallback(path, notes) if exc.pillow_may_read else None
        if fallback is None:
            raise ImageReadError(path, str(exc)) from None
        return fallback
    return samples, grey, icc, read_tiff_exif(str(path)), "TIFF"


def _pillow_tiff_fallback(path: Path, notes: list[str]) -> _Read | None:
    """Pillow's reading of a TIFF whose samples it keeps whole (8 bits, or 16-bit/float grey), else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's "Corrupt EXIF data": the error line is tifffile's
            image = Image.open(path)
        with image:
            bits = image.tag_v2.get(258, (8,))  # type: ignore[attr-defined]
            whole = max(bits) <= 8 or image.mode in (*_GREY_16, "F")
            frames = getattr(image, "n_frames", 1)
    except Exception:
        return None
    if not whole or frames != 1:
        return None
    samples, grey, icc, _, fmt = _read_pillow(path, notes)
    return samples, grey, icc, read_tiff_exif(str(path)), fmt


def _read_pillow(path: Path, notes: list[str]) -> _Read:
    image = open_checked(path)
    with image:
        frames = getattr(image, "n_frames", 1)
        if frames > 1 and image.format != "MPO":
            what = "pages" if image.format == "TIFF" else "frames (an animation)"
            raise ImageReadError(path, f"has {frames} {what}; only single pictures are denoised (save one as a file)")
        png16 = png16_layout(image) if is_png16(image) else None  # before load(), which empties image.tile
        try:
            image.seek(0)
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
            raise ImageReadError(path, f"broken or truncated image ({exc})") from None
        icc = image.info.get("icc_profile")
        exif = image.info.get("exif")
        if not exif:
            try:
                found = image.getexif()
                exif = found.tobytes() if len(found) and image.format != "TIFF" else None
            except Exception:  # a broken EXIF block loses the EXIF, not the photo
                exif = None
        try:
            samples, grey = _samples(image, str(path), png16, notes)
        except (OSError, ValueError) as exc:
            raise ImageReadError(path, f"cannot convert mode {image.mode} ({exc})") from None
        if image.mode == "CMYK" and icc:
            icc = None  # a CMYK profile does not describe the RGB pixels made from it
            notes.append("its CMYK colour profile does not apply to the RGB result and was left out")
        fmt = image.format or "PNG"
    return samples, grey, icc, strip_prefix(exif) if exif else None, fmt


def _samples(image: Image.Image, path: str, png16: str | None, notes: list[str]) -> tuple[np.ndarray, bool]:
    """(H, W, C) samples in the file's own depth and whether they are grey, for any mode Pillow opens."""
    mode = image.mode
    if png16 is not None:
        return _keyed(read_png16(path, png16), image.info.get("transparency")), png16 == "LA"
    if mode in _GREY_16 or (mode == "I" and image.format == "PNG"):
        return _keyed(np.asarray(image).astype(np.uint16)[:, :, None], image.info.get("transparency")), True
    if mode == "F":
        return np.asarray(image, dtype=np.float32)[:, :, None], True
    if mode == "I":
        raise ValueError("32-bit integer samples are not supported")
    transparent = "transparency" in image.info
    if mode in ("L", "LA", "La", "1") or (mode == "P" and _grey_palette(image)):
        target = "LA" if (mode in ("LA", "La") or transparent) else "L"
        if mode == "1":
            notes.append("a 1-bit photo comes back 8-bit grey")
        return _as(image, target), True
    target = "RGBA" if (mode in ("RGBA", "RGBa", "PA") or transparent) else "RGB"
    if mode == "P":
        notes.append(f"a palette photo comes back {target}")
    return _as(image, target), False


def _keyed(samples: np.ndarray, key: object) -> np.ndarray:
    """16-bit grey or RGB samples with their PNG transparent colour (tRNS) made an alpha channel."""
    if key is None or samples.shape[2] not in (1, 3):
        return samples
    colour = np.asarray(key, dtype=np.uint16).reshape(-1)[: samples.shape[2]]
    alpha = np.where((samples == colour).all(axis=2), 0, 65535).astype(np.uint16)
    return np.concatenate([samples, alpha[:, :, None]], axis=2)


def _grey_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))


def _as(image: Image.Image, mode: str) -> np.ndarray:
    converted = image if image.mode == mode else image.convert(mode)
    array = np.asarray(converted)
    return np.array(array[:, :, None] if array.ndim == 2 else array, copy=True)
