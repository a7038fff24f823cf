"""A run folder holds one training run: who may write into it, and a lock while one trainer does.

* ``check_out_folder(out, resume)``: may a run be written into ``out``? A folder that holds
  another run (any of its files) is refused; a resumed run may continue only the
  checkpoint it was started from (so a resume never writes over a foreign run, nor over a
  later checkpoint of its own run).
* ``RunLock``: an exclusive lock on the folder (``.denoise-train.lock``, holding the owner's
  pid) while a trainer writes into it. The lock is an ``fcntl.flock`` on that file, which the
  kernel drops when its process dies, so the file left behind by a killed process is
  recognised as stale and taken over; a second live trainer is refused with its pid.
* ``remove_leftover_temp_files``: the temporary files of interrupted atomic writes
  (``.<name>.<pid>.<random>.tmp``, see ``nnkit.denoise.tempfiles``) are removed by the next
  run that holds the lock.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from nnkit.denoise.tempfiles import is_temp_file

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: a pid-file lock only
    fcntl = None  # type: ignore[assignment]

CHECKPOINT_NAME = "checkpoint.safetensors"
BEST_NAME = "checkpoint.best.safetensors"
ABORTED_STEM = "checkpoint.aborted"  # weights caught mid-step by a second Ctrl-C, beside the last clean save
METRICS_NAME = "metrics.jsonl"
CONFIG_NAME = "config.json"
LOCK_NAME = ".denoise-train.lock"
RUN_FILES = (CHECKPOINT_NAME, BEST_NAME, METRICS_NAME, CONFIG_NAME)


class RunFolderError(ValueError):
    """A run folder cannot be used; the message says why and what to do."""


def run_files(folder: Path) -> list[str]:
    """The names of the run files that ``folder`` holds already."""
    return [name for name in RUN_FILES if (folder / name).exists()]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_out_folder(out: Path, resume: Path | None = None) -> None:
    """Raise RunFolderError unless a run (fresh, or resumed from ``resume``) may write into ``out``."""
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"--out {out}: exists and is not a folder")
    if not out.exists():
        return
    held = run_files(out)
    if not held:
        return
    if resume is None and not (out / CHECKPOINT_NAME).exists():  # a run stopped before its first save
        raise RunFolderError(
            f"--out {out}: holds the start of a run that saved no checkpoint ({', '.join(held)}; killed in its "
            "first epoch?), so there is nothing to resume; choose another --out, or remove those files first"
        )
    if resume is None:
        raise RunFolderError(
            f"--out {out}: already holds a run ({', '.join(held)}); choose another --out, "
            f"or continue it with --resume {out / CHECKPOINT_NAME}"
        )
    latest = out / CHECKPOINT_NAME
    if latest.exists() and _same_file(latest, resume):
        return
    if latest.exists() and resume.resolve().parent == out.resolve():
        raise RunFolderError(
            f"--out {out}: resuming {resume.name} there would write over the run's later {CHECKPOINT_NAME}; "
            f"continue that one (--resume {latest}) or give another --out"
        )
    raise RunFolderError(
        f"--out {out}: holds another run ({', '.join(held)}), not the one of {resume}; "
        "a resumed run continues in its own folder or a new one"
    )


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _read_pid(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


class RunLock:
    """Exclusive use of a run folder by one trainer: ``with RunLock(folder): ...``.

    ``stale_pid`` is the pid of a dead owner whose lock file was taken over (0 if none).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.stale_pid = 0
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock or raise RunFolderError naming the owner; the folder is created if needed."""
        self.folder.mkdir(parents=True, exist_ok=True)
        previous = _read_pid(self.path) if self.path.exists() else 0
        for _ in range(10):  # retried only when the owner removed the file between our open and lock
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not self._lock_fd(fd):
                os.close(fd)
                owner = _read_pid(self.path)
                raise RunFolderError(
                    f"{self.folder} is in use by another training run (pid {owner or 'unknown'}); "
                    "wait for it to end, or choose another --out"
                )
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:  # pragma: no cover - a folder whose lock file keeps vanishing
            raise RunFolderError(f"{self.folder}: cannot lock {self.path.name}")
        if previous and previous != os.getpid():
            self.stale_pid = previous
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def _lock_fd(self, fd: int) -> bool:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True
        owner = _read_pid(self.path)  # pragma: no cover - without flock: trust a live pid
        return not (owner and owner != os.getpid() and _pid_alive(owner))  # pragma: no cover

    def release(self) -> None:
        """Give the lock up (the lock file is removed first, so that no one locks a removed file)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def remove_leftover_temp_files(folder: Path) -> list[Path]:
    """Remove the temporary files of interrupted writes in ``folder`` (call while holding its RunLock)."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for path in sorted(folder.iterdir()):
        if is_temp_file(path) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed


def aborted_checkpoint_path(out: Path) -> Path:
    """A new file in ``out`` for weights saved by an abort: checkpoint.aborted.safetensors, then -2, -3, ...

    An abort breaks into a step, so its weights may be half-updated and it has no optimiser state:
    it never replaces ``checkpoint.safetensors``, the last clean save a resume continues from.
    """
    candidate, number = out / f"{ABORTED_STEM}.safetensors", 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = out / f"{ABORTED_STEM}-{number}.safetensors"
    return candidate
