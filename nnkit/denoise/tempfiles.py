"""Temporary files for atomic writes (write beside the target, fsync, rename) with ordinary permissions.

``tempfile.mkstemp`` creates its files readable by their owner alone (0600); renamed into
place, a saved image or checkpoint would keep that mode. ``temp_file_beside`` gives the
temporary file the mode a plain ``open(path, "w")`` would have (0666 less the umask).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _process_umask() -> int:
    mask = os.umask(0o022)  # the umask can only be read by setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def new_file_mode() -> int:
    """The permission bits a newly created ordinary file gets in this process (0666 less the umask)."""
    return 0o666 & ~_UMASK


def temp_file_beside(path: Path) -> tuple[int, Path]:
    """An open, hidden temporary file in ``path``'s folder (same file system: the rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    if hasattr(os, "fchmod"):  # not on Windows, where mkstemp's mode is not restrictive anyway
        os.fchmod(fd, new_file_mode())
    return fd, Path(name)
