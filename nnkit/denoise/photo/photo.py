"""``Photo``: a decoded photo as the network sees it, plus all that must come back out unchanged.

``rgb`` is float32 (H, W, 3), upright (EXIF orientation applied), in [0, 1] for integer photos
(a float photo's values are kept as they are, even outside [0, 1]). A grey photo is its one
channel repeated three times; the result goes back to one channel as the mean of the three
(so a grey photo stays grey, and an unchanged one comes back exactly). ``alpha`` is kept in the
file's own type and never goes through the network. ``dtype`` is the samples' type: uint8,
uint16 or float32; integers are quantised once, when the result is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_ROWS = 256  # rows a strip when quantising
DEPTH_NAMES = {np.dtype(np.uint8): "8-bit", np.dtype(np.uint16): "16-bit", np.dtype(np.float32): "32-bit float"}


@dataclass
class Photo:
    """A decoded photo: float RGB for the network, and its depth, alpha, colour profile and EXIF."""

    rgb: np.ndarray  # float32 (H, W, 3), upright
    dtype: np.dtype  # the samples' type in the file: uint8, uint16 or float32
    grey: bool = False  # one colour channel in the file
    alpha: np.ndarray | None = None  # (H, W) of ``dtype``, upright, untouched
    icc: bytes | None = None  # the ICC colour profile, as found
    exif: bytes | None = None  # EXIF (a TIFF structure, no "Exif" prefix), orientation tag reset to 1
    source_format: str = "PNG"  # Pillow's name of the file's format: PNG, JPEG, TIFF, WEBP, BMP, GIF
    source: Path | None = None
    notes: list[str] = field(default_factory=list)  # what could not be kept, for the user

    @property
    def depth(self) -> str:
        """'8-bit', '16-bit' or '32-bit float'."""
        return DEPTH_NAMES[np.dtype(self.dtype)]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def rgb8(self) -> np.ndarray:
        """uint8 (H, W, 3): what the 8-bit helpers (the σ estimate, previews) see."""
        return quantise(self.rgb, np.dtype(np.uint8))


def scale_of(dtype: np.dtype) -> float:
    """The sample value of full white: 255, 65535, or 1.0 for floats."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_float(samples: np.ndarray) -> np.ndarray:
    """Samples of any supported type -> float32 in [0, 1] (floats as they are)."""
    if samples.dtype == np.float32:
        return samples
    values = samples.astype(np.float32)
    values /= np.float32(scale_of(samples.dtype))  # in place: one float copy of a big photo, not two
    return values


def quantise(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float values in [0, 1] -> samples of ``dtype`` (clipped and rounded; floats stay as they are)."""
    dtype = np.dtype(dtype)
    if dtype == np.float32:
        return np.ascontiguousarray(values, dtype=np.float32)
    top = np.float32(scale_of(dtype))
    out = np.empty(values.shape, dtype)
    for start in range(0, values.shape[0], _ROWS):  # a strip at a time: float temporaries stay small
        strip = np.clip(values[start : start + _ROWS], 0.0, 1.0)
        strip *= top
        out[start : start + _ROWS] = np.rint(strip, out=strip)
    return out


def from_grey(grey: np.ndarray) -> np.ndarray:
    """(H, W) float -> (H, W, 3): the one channel three times."""
    return np.repeat(grey[:, :, None], 3, axis=2)


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W) float32: the mean of the channels (in float64, so three equal values give it back)."""
    return rgb.mean(axis=2, dtype=np.float64).astype(np.float32)


def file_samples(photo: Photo, rgb: np.ndarray, dtype: np.dtype | None = None) -> np.ndarray:
    """The samples to write for result ``rgb`` of ``photo``: (H, W, C) of ``dtype`` (default the photo's),
    C = 1 or 3 colour channels (grey stays grey) plus the photo's alpha, converted if the type differs."""
    dtype = np.dtype(dtype or photo.dtype)
    colour = to_grey(rgb)[:, :, None] if photo.grey else rgb
    planes = [quantise(colour, dtype)]
    if photo.alpha is not None:
        alpha = photo.alpha
        if alpha.dtype != dtype:
            alpha = quantise(to_float(alpha), dtype)
        planes.append(alpha[:, :, None])
    return np.ascontiguousarray(np.concatenate(planes, axis=2) if len(planes) > 1 else planes[0])
