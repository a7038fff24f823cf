"""EXIF: the orientation (applied to the pixels once on reading, then reset to 1 in the bytes kept).

EXIF is kept as the bytes found (a TIFF structure: byte order, IFD0, sub-IFDs, maker notes), with
only the orientation value overwritten in place, so that nothing Pillow cannot parse is lost.
"""

from __future__ import annotations

import struct

import numpy as np

ORIENTATION = 0x0112
EXIF_PREFIX = b"Exif\x00\x00"


def strip_prefix(exif: bytes) -> bytes:
    """EXIF as a bare TIFF structure (JPEG and Pillow put "Exif\\0\\0" in front)."""
    return exif[len(EXIF_PREFIX) :] if exif.startswith(EXIF_PREFIX) else exif


def _orientation_entry(exif: bytes) -> tuple[str, int] | None:
    """(byte order, offset of the orientation value) in IFD0, or None if absent or unreadable."""
    if len(exif) < 8 or exif[:2] not in (b"II", b"MM"):
        return None
    order = "<" if exif[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", exif, 4)
    if ifd + 2 > len(exif):
        return None
    (count,) = struct.unpack_from(order + "H", exif, ifd)
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(exif):
            return None
        tag, kind, number = struct.unpack_from(order + "HHI", exif, entry)
        if tag == ORIENTATION and kind == 3 and number == 1:  # one SHORT, stored in the entry itself
            return order, entry + 8
    return None


def orientation(exif: bytes | None) -> int:
    """The EXIF orientation, 1 (upright) to 8; 1 when absent or unreadable."""
    found = _orientation_entry(strip_prefix(exif)) if exif else None
    if found is None:
        return 1
    order, offset = found
    (value,) = struct.unpack_from(order + "H", strip_prefix(exif or b""), offset)
    return value if 1 <= value <= 8 else 1


def reset_orientation(exif: bytes) -> bytes:
    """The same EXIF bytes with the orientation set to 1 (upright), if it has one."""
    exif = strip_prefix(exif)
    found = _orientation_entry(exif)
    if found is None:
        return exif
    order, offset = found
    return exif[:offset] + struct.pack(order + "H", 1) + exif[offset + 2 :]


def upright(array: np.ndarray, value: int) -> np.ndarray:
    """Turn/flip an (H, W, ...) array stored with EXIF orientation ``value`` so that it shows upright."""
    if value in (2, 4, 5, 7):  # the mirrored ones: flip left-right first (as Pillow's exif_transpose)
        array = array[:, ::-1]
    turns = {3: 2, 4: 2, 5: 1, 6: 3, 7: 3, 8: 1}.get(value, 0)  # quarter turns anticlockwise
    return np.ascontiguousarray(np.rot90(array, turns)) if turns else np.ascontiguousarray(array)
