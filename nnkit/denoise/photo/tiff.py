"""TIFF through tifffile (16-bit colour and float samples, which Pillow cannot read or write).

EXIF in a TIFF is not a separate block but tags of the image's own directory (IFD0) plus an
EXIF and a GPS sub-directory. Reading keeps the descriptive IFD0 tags (camera, date, author,
orientation) and the two sub-directories; writing puts them back the same way, the
sub-directories appended after tifffile's output and linked from IFD0.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import warnings
from collections.abc import Iterator
from typing import BinaryIO

import numpy as np
import tifffile
from PIL import Image, TiffImagePlugin

from nnkit.denoise.photo.metadata import strip_prefix

DESCRIPTIVE_TAGS = {270: "s", 271: "s", 272: "s", 274: "H", 305: "s", 306: "s", 315: "s", 33432: "s"}
SUB_IFDS = (0x8769, 0x8825)  # EXIF, GPS
TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


class TiffError(ValueError):
    """A TIFF that cannot be read as a photo; the message says why (without the file name).

    ``pillow_may_read``: what tifffile cannot decode (a compression needing imagecodecs, palette,
    CMYK or YCbCr pixels, 1-bit samples) that Pillow may still read, in 8 bits.
    """

    def __init__(self, message: str, *, pillow_may_read: bool = False) -> None:
        super().__init__(message)
        self.pillow_may_read = pillow_may_read


def is_tiff(path: str) -> bool:
    """The file starts like a (classic) TIFF."""
    with open(path, "rb") as handle:
        return handle.read(4) in TIFF_MAGIC


def read_tiff_exif(path: str) -> bytes | None:
    """The TIFF's descriptive IFD0 tags and EXIF/GPS sub-directories as EXIF bytes; None if it has none."""
    found = Image.Exif()
    try:
        kept = Image.Exif()
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": handled below, by keeping none
            found.load_from_fp(handle)
            for tag in DESCRIPTIVE_TAGS:
                if tag in found:
                    kept[tag] = found[tag]
            for tag in SUB_IFDS:
                if tag in found and (sub := found.get_ifd(tag)):  # read from the file: inside the ``with``
                    kept[tag] = dict(sub)
    except (OSError, SyntaxError, ValueError, struct.error, KeyError, TypeError):
        return None  # a broken EXIF block loses the EXIF, not the photo
    return strip_prefix(kept.tobytes()) if len(kept) else None


def read_tiff(path: str, max_pixels: int) -> tuple[np.ndarray, bool, bytes | None]:
    """(samples (H, W, C) uint8/uint16/float32, grey, ICC profile) of a one-page TIFF; TiffError if not one."""
    try:
        with _quiet_tifffile(), tifffile.TiffFile(path) as tif:
            pages = [p for p in tif.pages if not (int(getattr(p, "subfiletype", 0)) & 1)]  # not thumbnails
            if not pages:
                raise TiffError("broken TIFF (no readable image in it)")
            if len(pages) != 1:
                raise TiffError(f"has {len(pages)} pages; only one-page TIFFs are denoised (save each page as a file)")
            page = pages[0]
            if not isinstance(page, tifffile.TiffPage):
                raise TiffError("unreadable TIFF page")
            photometric = int(page.photometric)
            if photometric not in (1, 2):  # MINISBLACK, RGB
                name = getattr(page.photometric, "name", photometric)
                raise TiffError(f"TIFF photometric interpretation {name} is not supported", pillow_may_read=True)
            height, width = int(page.imagelength), int(page.imagewidth)
            if height * width > max_pixels or height < 1 or width < 1:
                raise TiffError(f"{width}x{height} pixels is outside the limits (1 to {max_pixels:,})")
            samples = page.asarray()
            icc_tag = page.tags.get(34675)
            icc = bytes(icc_tag.value) if icc_tag is not None else None
            separate = int(page.planarconfig) == 2
    except TiffError:
        raise
    except ValueError as exc:
        if "imagecodecs" in str(exc):  # e.g. "<COMPRESSION.LZW: 5> requires the 'imagecodecs' package"
            raise TiffError(f"{exc} to read this compression", pillow_may_read=True) from None
        raise TiffError(f"broken TIFF ({exc})") from None
    except (OSError, struct.error, KeyError, IndexError, TypeError, RuntimeError) as exc:
        raise TiffError(f"broken TIFF ({exc})") from None
    if separate and samples.ndim == 3:
        samples = np.moveaxis(samples, 0, -1)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    grey = photometric == 1
    colour = 1 if grey else 3
    if samples.ndim != 3 or samples.shape[2] not in (colour, colour + 1):
        raise TiffError(f"{samples.shape[-1]} samples a pixel is not grey, RGB or either with alpha")
    if samples.dtype in (np.float16, np.float64):
        samples = samples.astype(np.float32)
    if samples.dtype not in (np.uint8, np.uint16, np.float32):
        raise TiffError(f"{samples.dtype} samples are not supported (8 or 16 bits, or float)", pillow_may_read=True)
    return np.ascontiguousarray(samples), grey, icc


@contextlib.contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs what it finds odd in a file; the one line a user sees is ours."""
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def write_tiff(handle: BinaryIO, samples: np.ndarray, *, grey: bool, icc: bytes | None, exif: bytes | None) -> None:
    """Write (H, W, C) samples as a zlib-compressed TIFF with its ICC profile and EXIF (``handle``: w+b)."""
    tags: list[tuple[int, str, int, object, bool]] = []
    subs: dict[int, dict[int, object]] = {}
    if exif:
        found = Image.Exif()
        found.load(exif)
        for tag, kind in DESCRIPTIVE_TAGS.items():
            value = found.get(tag)
            if (kind == "s" and isinstance(value, str) and value.isascii()) or (kind == "H" and isinstance(value, int)):
                tags.append((tag, kind, 1 if kind == "H" else 0, value, True))
        for tag in SUB_IFDS:
            if tag in found and (sub := found.get_ifd(tag)):
                subs[tag] = dict(sub)
                # tifffile will not write the pointer tags themselves: a placeholder one code lower
                # (same place in the sorted directory) is renamed and pointed once the sub-directory is written
                tags.append((tag - 1, "I", 1, 0, True))
    extra = ("unassalpha",) if samples.shape[2] in (2, 4) else None
    tifffile.imwrite(
        handle,
        samples[:, :, 0] if samples.shape[2] == 1 else samples,
        photometric="minisblack" if grey else "rgb",
        planarconfig="contig",
        extrasamples=extra,
        compression="zlib",
        iccprofile=icc,
        extratags=tags,
        metadata=None,  # no tifffile description of its own
        software=False,  # nor its name: the source's Software tag, if any, is among ``tags``
        byteorder="<",
        bigtiff=False,
    )
    for tag, sub in subs.items():
        _append_sub_ifd(handle, tag, sub)


def _append_sub_ifd(handle: BinaryIO, tag: int, entries: dict[int, object]) -> None:
    """Write a sub-directory at the end of the (little-endian, classic) TIFF; IFD0's placeholder becomes ``tag``."""
    end = handle.seek(0, 2)
    start = end + (end % 2)  # directories start on a word boundary
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    for key, value in entries.items():
        ifd[key] = value
    handle.write(b"\0" * (start - end) + ifd.tobytes(start))
    handle.seek(4)
    (ifd0,) = struct.unpack("<I", handle.read(4))
    handle.seek(ifd0)
    (count,) = struct.unpack("<H", handle.read(2))
    for i in range(count):
        handle.seek(ifd0 + 2 + 12 * i)
        if struct.unpack("<H", handle.read(2))[0] == tag - 1:  # the placeholder
            handle.seek(ifd0 + 2 + 12 * i)
            handle.write(struct.pack("<HHII", tag, 4, 1, start))  # the pointer: one LONG
            break
    handle.seek(0, 2)
