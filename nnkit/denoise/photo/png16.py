"""16-bit PNG, which Pillow reads only as 8 bits (colour) and cannot write (colour or grey+alpha).

Reading: Pillow's own C decoder inflates and unfilters the file twice, once keeping the high
bytes of each sample (rawmode ``…;16B``) and once the low ones (``…;16L`` reads the second byte
of each pair), so every PNG filter and interlacing is handled at C speed. Writing: a plain
encoder (the "Up" filter, zlib) with the ICC profile (iCCP) and EXIF (eXIf) chunks.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

import numpy as np
from PIL import Image

_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_HALVES = {"RGB": ("RGB;16B", "RGB;16L"), "RGBA": ("RGBA;16B", "RGBA;16L")}


def is_png16(image: Image.Image) -> bool:
    """A PNG of 16-bit colour or grey+alpha samples (Pillow decodes those to 8 bits)."""
    tile = getattr(image, "tile", None) or [("", (0, 0, 0, 0), 0, "")]  # an ImageFile's decoding plan
    wide = len(tile) == 1 and str(tile[0][3]).endswith(";16B")
    return image.format == "PNG" and wide and image.mode not in ("I;16", "I")  # 16-bit grey Pillow reads whole


def _decode_as(path: str, rawmode: str, mode: str | None = None) -> np.ndarray:
    with Image.open(path) as image:
        tile = image.tile[0]
        # Pillow >= 11 has a named tuple (_Tile), older ones a plain tuple
        image.tile = [tile._replace(args=rawmode) if hasattr(tile, "_replace") else (*tile[:3], rawmode)]  # type: ignore[list-item]
        if mode is not None:
            image._mode = mode  # same bytes per pixel: the unfiltering is unchanged
        image.load()
        return np.asarray(image)


def png16_layout(image: Image.Image) -> str:
    """'LA', 'RGB' or 'RGBA': the samples of a 16-bit PNG as stored (Pillow shows grey+alpha as RGBA)."""
    return str(getattr(image, "tile", [("", 0, 0, "")])[0][3]).removesuffix(";16B")


def read_png16(path: str, layout: str) -> np.ndarray:
    """The samples of a 16-bit PNG of ``layout`` (see ``png16_layout``) as uint16 (H, W, C)."""
    if layout == "LA":  # no LA;16L unpacker: read the 4 bytes a pixel as RGBA (same filter unit) and pair them
        raw = _decode_as(path, "RGBA", "RGBA").astype(np.uint16)
        return np.ascontiguousarray(np.stack([raw[..., 0] * 256 + raw[..., 1], raw[..., 2] * 256 + raw[..., 3]], -1))
    high, low = (_decode_as(path, rawmode) for rawmode in _HALVES[layout])
    return high.astype(np.uint16) * 256 + low


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(handle: BinaryIO, samples: np.ndarray, *, icc: bytes | None = None, exif: bytes | None = None) -> None:
    """Write uint16 (H, W) or (H, W, C) samples, C in 1-4, as a 16-bit PNG with its ICC profile and EXIF."""
    if samples.ndim == 2:
        samples = samples[:, :, None]
    height, width, channels = samples.shape
    big = np.ascontiguousarray(samples, dtype=">u2").view(np.uint8).reshape(height, width * channels * 2)
    rows = big.copy()
    rows[1:] -= big[:-1]  # the "Up" filter: each byte minus the one above (mod 256)
    filtered = np.concatenate([np.full((height, 1), 2, np.uint8), rows], axis=1)
    filtered[0, 0] = 0  # the first row has nothing above: filter "None"
    handle.write(b"\x89PNG\r\n\x1a\n")
    header = struct.pack(">IIBBBBB", width, height, 16, _COLOUR_TYPES[channels], 0, 0, 0)
    handle.write(_chunk(b"IHDR", header))
    if icc:
        handle.write(_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(icc)))
    if exif:
        handle.write(_chunk(b"eXIf", exif))
    handle.write(_chunk(b"IDAT", zlib.compress(filtered.tobytes(), 6)))
    handle.write(_chunk(b"IEND", b""))
