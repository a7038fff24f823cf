"""Photos in and out, faithfully: depth, grey, alpha, colour profile and EXIF survive denoising.

``read_photo(path) -> Photo`` (float RGB for the network, plus what must come back out),
``save_like(photo, denoised_rgb, path, fmt=None, quality=None, overwrite=False)`` writes a
result as its source was, and ``result_name`` / ``result_path`` name results from the photo alone.
"""

from nnkit.denoise.photo.naming import FORMATS, default_format, format_name, is_result_name, result_name, result_path
from nnkit.denoise.photo.photo import Photo, quantise, to_float
from nnkit.denoise.photo.read import read_photo
from nnkit.denoise.photo.write import JPEG_QUALITY, save_like

__all__ = [
    "FORMATS",
    "JPEG_QUALITY",
    "Photo",
    "default_format",
    "format_name",
    "is_result_name",
    "quantise",
    "read_photo",
    "result_name",
    "result_path",
    "save_like",
    "to_float",
]
