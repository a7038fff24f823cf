"""Temporary files for atomic writes (write beside the target, fsync, rename) with ordinary permissions.

A temporary file is named ``.<target name>.<pid>.<random>.tmp``: hidden, recognisable
(``is_temp_file``) and traceable to the process that wrote it, so that the leftovers of a
killed process can be told from a write in progress and removed (``remove_dead_temp_files``).

``tempfile.mkstemp`` creates its files readable by their owner alone (0600); renamed into
place, a saved image or checkpoint would keep that mode. ``temp_file_beside`` gives the
temporary file the mode a plain ``open(path, "w")`` would have (0666 less the umask).

A failed atomic write raises an OSError naming the file meant (not the temporary one), so
that "disk full" messages say where. ``output_file_problem`` checks, before a long run, that
its results file can be written at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _process_umask() -> int:
    mask = os.umask(0o022)  # the umask can only be read by setting it: done once, at import
    os.umask(mask)
    return mask


_UMASK = _process_umask()
TEMP_SUFFIX = ".tmp"
# .<name>.<pid>.<8 random characters of mkstemp>.tmp (the pid is absent in files of older versions)
_TEMP_NAME = re.compile(r"^\.(?P<target>.+?)\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]{8}\.tmp$")


def new_file_mode() -> int:
    """The permission bits a newly created ordinary file gets in this process (0666 less the umask)."""
    return 0o666 & ~_UMASK


def temp_file_beside(path: Path) -> tuple[int, Path]:
    """An open, hidden temporary file in ``path``'s folder (same file system: the rename is atomic)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    if hasattr(os, "fchmod"):  # not on Windows, where mkstemp's mode is not restrictive anyway
        os.fchmod(fd, new_file_mode())
    return fd, Path(name)


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it, fsync, rename: a failure leaves the old file."""
    try:
        fd, tmp = temp_file_beside(path)
    except OSError as exc:
        raise with_filename(exc, path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise with_filename(exc, path) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def place_new(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` atomically, failing if ``path`` appeared meanwhile."""
    try:
        os.link(tmp, path)  # atomic and refuses an existing target
    except FileExistsError:
        raise FileExistsError(f"will not overwrite existing file {str(path)!r}") from None
    except OSError:  # file systems without hard links
        if path.exists():
            raise FileExistsError(f"will not overwrite existing file {str(path)!r}") from None
        os.replace(tmp, path)


def write_file_atomically(path: Path, write: Callable[[BinaryIO], None], *, overwrite: bool = False) -> Path:
    """``write(handle)`` into a temporary file beside ``path``, fsync, then rename it into place.

    Never a half-written ``path``; without ``overwrite`` never over an existing file (FileExistsError,
    even if it appeared while writing). The temporary file is gone afterwards, whatever happened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(path)
    try:
        os.close(fd)
        with open(tmp, "r+b") as handle:  # by name: tifffile wants a file handle with a name
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            place_new(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def with_filename(exc: OSError, path: Path) -> OSError:
    """``exc`` naming ``path``, the file meant (not the temporary one; a failed write names none)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))  # the same subclass: PermissionError, ...


def is_temp_file(path: Path) -> bool:
    """Whether ``path``'s name is that of a ``temp_file_beside`` temporary file."""
    return _TEMP_NAME.match(path.name) is not None


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_temp_files(folder: Path) -> list[Path]:
    """Remove temporary files in ``folder`` whose writing process is gone; returns those removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        match = _TEMP_NAME.match(path.name)
        if match is None or match["pid"] is None or not path.is_file():
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and not _writer_alive(pid):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def output_file_problem(path: Path) -> str | None:
    """Why the results cannot be written to the file ``path`` (checked before a long run), or None.

    A missing folder is fine when it can be made (the results' writer makes it); the check
    writes a temporary file where the folder is, so a read-only file system is caught too.
    """
    if path.is_dir():
        return f"--out {path}: is a folder; give a file name"
    if path.exists() and not path.is_file():
        return f"--out {path}: exists and is not a regular file"
    if path.exists() and not os.access(path, os.W_OK):
        return f"--out {path}: is read-only"
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"--out {path}: {folder} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"--out {path}: cannot write in {folder}: {exc.strerror or exc}"
    return None
