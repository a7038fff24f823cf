"""A run's ``metrics.jsonl``: an append-only JSON-lines file that only ever holds whole records.

* Records are buffered as complete lines and appended by ``flush`` with ``os.write``; a write
  cut short (a full disk, a quota) is undone by truncating the file back to its length before,
  so a reader never meets half a record, and the error names the file.
* ``repair`` cuts a file found ending in half a record (a process killed mid-write, a machine
  that crashed) back to its last whole line before anything is appended after it.
* ``drop_after`` removes, atomically, the records of steps and epochs a resumed checkpoint does
  not hold (those of a run killed after its last save, or of a diverged run resumed from its best
  weights), so step numbers never repeat; they are kept in a side file.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from nnkit.denoise.tempfiles import with_filename, write_bytes_atomically


def repair(path: Path) -> int:
    """Cut ``path`` back to its last whole line; returns the bytes dropped (0 when it ends in one)."""
    try:
        with path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return 0
            data_end = 0
            block = 1 << 16
            position = size
            while position > 0:  # search backwards for the last newline, a block at a time
                start = max(0, position - block)
                handle.seek(start)
                chunk = handle.read(position - start)
                index = chunk.rfind(b"\n")
                if index >= 0:
                    data_end = start + index + 1
                    break
                position = start
            handle.truncate(data_end)
            return size - data_end
    except FileNotFoundError:
        return 0


def drop_after(path: Path, step: int, epoch: int, *, keep_in: Path | None = None) -> int:
    """Rewrite ``path`` (atomically) without records past ``step`` (or epoch records past ``epoch``); returns
    how many were dropped. Lines that are not JSON records are kept as they are.

    ``keep_in``: a file the dropped records are appended to first (the history of the attempt they
    tell of, e.g. a diverged one, is not lost; a crash in between duplicates them there, never loses them).
    """
    if not path.is_file():
        return 0
    kept: list[bytes] = []
    dropped: list[bytes] = []
    for line in path.read_bytes().splitlines(keepends=True):
        try:
            record = json.loads(line)
        except ValueError:
            kept.append(line)
            continue
        (dropped if isinstance(record, dict) and _past(record, step, epoch) else kept).append(line)
    if dropped:
        if keep_in is not None:
            with keep_in.open("ab") as side:
                side.write(b"".join(dropped))
                side.flush()
                os.fsync(side.fileno())
        write_bytes_atomically(path, b"".join(kept))
    return len(dropped)


def _past(record: dict[str, Any], step: int, epoch: int) -> bool:
    """Whether a record tells of a step or a validated epoch beyond (``step``, ``epoch``)."""
    record_step = record.get("step")
    if isinstance(record_step, int) and record_step > step and record.get("event") != "finished":
        return True
    record_epoch = record.get("epoch")
    return record.get("event") in ("epoch", "photos") and isinstance(record_epoch, int) and record_epoch > epoch


class JsonlLog:
    """Appends whole JSON records to a file; after a failed write it drops what it is given."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failed: OSError | None = None  # the write error, once one happened
        self._pending: list[str] = []
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise with_filename(exc, path) from None

    def write(self, record: dict[str, Any]) -> None:
        """Queue ``record`` as one line (written by the next ``flush``)."""
        if self.failed is None:
            self._pending.append(json.dumps(record) + "\n")

    def flush(self) -> None:
        """Append the queued lines, all of them or none; OSError (naming the file) when the disk refuses."""
        if self.failed is not None or not self._pending or self._fd < 0:
            return
        data = "".join(self._pending).encode("utf-8")
        self._pending.clear()
        size = os.fstat(self._fd).st_size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)  # no half record left behind
            self.failed = with_filename(exc, self.path)
            raise self.failed from None

    def close(self) -> None:
        """Flush what can be, then close; a write error here is kept in ``failed``, not raised."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            self.flush()
        os.close(self._fd)
        self._fd = -1
