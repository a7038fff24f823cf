"""Photo files written and read for the tests without nnkit.denoise.photo (so a bug there cannot hide).

16-bit PNG: a writer with every PNG filter (Pillow writes none of 16-bit colour) and a reader
of the filters denoise's encoder uses; TIFF through tifffile; the rest through Pillow.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageCms

COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
CHANNELS = {v: k for k, v in COLOUR_TYPES.items()}


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def wide_profile() -> bytes:
    """A valid profile that is not sRGB (a stand-in for Display-P3: only its bytes travel)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB", 5000)).tobytes()


def camera_exif(orientation: int = 1) -> bytes:
    """EXIF with camera, date, an orientation and an EXIF sub-directory, as a bare TIFF structure."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "EOS R5"
    exif[0x0132] = "2026:12:01 10:00:00"
    exif[0x0112] = orientation
    exif[0x8769] = {0x9003: "2026:12:01 09:59:58", 0x8827: 400}
    return exif.tobytes()[6:]  # without "Exif\0\0"


def exif_summary(exif: Image.Exif) -> dict[str, object]:
    """What must survive: camera, date, orientation and the EXIF sub-directory."""
    return {
        "make": exif.get(0x010F),
        "model": exif.get(0x0110),
        "date": exif.get(0x0132),
        "orientation": exif.get(0x0112),
        "sub": dict(exif.get_ifd(0x8769)),
    }


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    a, b, c = (v.astype(np.int32) for v in (a, b, c))
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c)).astype(np.uint8)


def write_png16(
    path: Path, samples: np.ndarray, icc: bytes | None = None, exif: bytes | None = None, key: bytes | None = None
) -> Path:
    """A 16-bit PNG of (H, W, C) uint16 samples, rows filtered in turn with all five PNG filters
    (``key``: a tRNS chunk, the transparent colour)."""
    h, w, c = samples.shape
    rows = samples.astype(">u2").view(np.uint8).reshape(h, w * c * 2)
    bpp = 2 * c
    out = []
    for y in range(h):
        kind = y % 5
        row = rows[y].astype(np.int32)
        up = rows[y - 1].astype(np.int32) if y else np.zeros_like(row)
        left = np.concatenate([np.zeros(bpp, np.int32), row[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int32), up[:-bpp]])
        pred = [0 * row, left, up, (left + up) // 2, _paeth(left, up, upleft).astype(np.int32)][kind]
        out.append(bytes([kind]) + ((row - pred) % 256).astype(np.uint8).tobytes())
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, COLOUR_TYPES[c], 0, 0, 0))
    if icc:
        data += _chunk(b"iCCP", b"test\0\0" + zlib.compress(icc))
    if exif:
        data += _chunk(b"eXIf", exif)
    if key:
        data += _chunk(b"tRNS", key)
    path.write_bytes(data + _chunk(b"IDAT", zlib.compress(b"".join(out))) + _chunk(b"IEND", b""))
    return path


def read_png(path: Path) -> tuple[np.ndarray, int]:
    """(samples (H, W, C), bit depth) of a non-interlaced 8- or 16-bit PNG (byte by byte: small files only)."""
    data = path.read_bytes()
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert interlace == 0
    c = CHANNELS[colour]
    size = depth // 8
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c * size)
    bpp, width = c * size, w * c * size
    rows = np.zeros((h, width), np.int32)
    for y in range(h):
        kind, line = int(raw[y, 0]), raw[y, 1:].astype(np.int32)
        up = rows[y - 1] if y else np.zeros(width, np.int32)
        if kind in (0, 2):
            rows[y] = (line + (up if kind == 2 else 0)) % 256
            continue
        for x in range(width):
            left = rows[y, x - bpp] if x >= bpp else 0
            upleft = up[x - bpp] if x >= bpp else 0
            if kind == 1:
                pred = left
            elif kind == 3:
                pred = (left + up[x]) // 2
            else:
                pred = int(_paeth(np.array(left), np.array(up[x]), np.array(upleft)))
            rows[y, x] = (line[x] + pred) % 256
    rows = rows.astype(np.uint8)
    samples = rows.view(">u2" if size == 2 else np.uint8).reshape(h, w, c).astype(np.uint16 if size == 2 else np.uint8)
    return samples, depth


def write_tiff(path: Path, samples: np.ndarray, icc: bytes | None = None, orientation: int | None = None) -> Path:
    """A TIFF through tifffile (camera tags in IFD0: tifffile writes no EXIF sub-directory)."""
    c = samples.shape[2]
    tags = [(271, "s", 0, "Canon", True), (272, "s", 0, "EOS R5", True)]
    if orientation is not None:
        tags.append((274, "H", 1, orientation, True))
    tifffile.imwrite(
        path,
        samples[:, :, 0] if c == 1 else samples,
        photometric="minisblack" if c <= 2 else "rgb",
        extrasamples=("unassalpha",) if c in (2, 4) else None,
        iccprofile=icc,
        extratags=tags,
        metadata=None,
    )
    return path


def tiff_exif(path: Path) -> Image.Exif:
    exif = Image.Exif()
    with open(path, "rb") as handle:
        exif.load_from_fp(handle)
        exif.get_ifd(0x8769)  # read now, while the file is open
    return exif


def oriented_indices(h: int, w: int, orientation: int) -> np.ndarray:
    """Pillow's own turn of a (h, w) index image for ``orientation``: where each shown pixel comes from."""
    index = Image.fromarray(np.arange(h * w, dtype=np.int32).reshape(h, w), mode="I")
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return np.asarray(index.transpose(method) if method is not None else index)
