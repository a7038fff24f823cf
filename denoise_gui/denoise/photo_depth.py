"""A dropped photo read at its own precision: 8-bit photos as uint8 arrays (as always), 16-bit and float ones as
float (a ``Photo``), so that the worker denoises them in float as `denoise` does and Save writes every bit.

The depth is told from the file's header (no pixels decoded), so an 8-bit photo is decoded once, by the
same reader as before (``read_image``: an alpha photo on white), and its result stays byte for byte the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nnkit.denoise.photo import Photo

# Pillow's modes of more than 8 bits a sample that read_photo keeps whole ("I" only from a PNG, see is_high_depth)
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "F")


def is_high_depth(path: str | os.PathLike[str]) -> bool:
    """Whether the photo holds more than 8 bits a sample (16-bit or float), from its header; False when it cannot
    be told (the reader then says what is wrong with the file)."""
    from nnkit.denoise.imageio import open_checked
    from nnkit.denoise.photo.png16 import is_png16
    from nnkit.denoise.photo.tiff import is_tiff

    try:
        if is_tiff(str(path)):
            import tifffile

            with tifffile.TiffFile(str(path)) as tif:
                dtype = getattr(tif.pages[0], "dtype", None)  # a TiffPage (or a frame): its samples
                return dtype is not None and np.dtype(dtype).itemsize > 1
        with open_checked(Path(path)) as image:
            return image.mode in _WIDE_MODES or (image.mode == "I" and image.format == "PNG") or is_png16(image)
    except Exception:
        return False


def read_at_depth(path: str) -> np.ndarray | Photo:
    """The photo to denoise: uint8 (H, W, 3) for an 8-bit photo (``read_image``), else its ``Photo`` (float RGB)."""
    if is_high_depth(path):
        from nnkit.denoise.photo import read_photo

        photo = read_photo(path)
        photo.alpha = None  # never denoised, and read again on Save: not held while the photo is denoised
        return photo
    from nnkit.denoise.imageio import read_image

    return read_image(path)
