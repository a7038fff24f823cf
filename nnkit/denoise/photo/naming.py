"""Result names, decided from the photo's own file name alone: ``x.webp`` -> ``x.webp.denoised.png``.

The whole source name is kept and a fixed ``.denoised.<type>`` appended, so two different
photos can never get the same result name in one folder (``x.bmp``, ``x.webp`` and ``x.png``
give three names), whatever else is in the batch, and ``--overwrite`` can only ever replace that
photo's own earlier result. The source's type stays visible, and results sort beside it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

FORMATS = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg", "webp": ".webp"}  # --format: the file's suffix
ALIASES = {"tif": "tiff", "jpg": "jpeg"}
SUFFIX_FORMATS = {".png": "png", ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}
RESULT_MARK = ".denoised"
_RESULT = re.compile(r"\.denoised(-\d+)?\.(png|tif|tiff|jpg|jpeg|webp)$", re.IGNORECASE)


def format_name(name: str) -> str:
    """'png', 'tiff', 'jpeg' or 'webp' for a --format value (any case, 'tif'/'jpg' too); ValueError if unknown."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise ValueError(f"unknown output format {name!r} (use {', '.join(FORMATS)})")
    return key


def default_format(source: str | os.PathLike[str]) -> str:
    """TIFF for a TIFF (a 16-bit or float workflow stays TIFF), else PNG (8 or 16 bits, alpha, ICC, EXIF)."""
    return "tiff" if Path(source).suffix.lower() in (".tif", ".tiff") else "png"


def result_name(source: str | os.PathLike[str], fmt: str | None = None) -> str:
    """``<source file name>.denoised.<suffix of fmt>`` (fmt None: ``default_format``)."""
    fmt = format_name(fmt) if fmt is not None else default_format(source)
    return f"{Path(source).name}{RESULT_MARK}{FORMATS[fmt]}"


def result_path(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Where the result of ``source`` goes in ``out_dir``."""
    return Path(out_dir) / result_name(source, fmt)


def is_result_name(name: str) -> bool:
    """A name ``result_name`` gives (``*.denoised.png|tif|jpg|webp``), or the app's ``*.denoised-2.png`` beside it."""
    return _RESULT.search(name) is not None


def format_of_path(path: str | os.PathLike[str]) -> str:
    """The output format a path's suffix asks for; ValueError naming the path if none."""
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        known = ", ".join(SUFFIX_FORMATS)
        raise ValueError(f"cannot write {str(path)!r}: unknown suffix {suffix or 'none'!r} (use {known})")
    return SUFFIX_FORMATS[suffix]
