"""Telling an allocation failure from other errors, and saying it in one line."""

from __future__ import annotations

import re

# torch's CPU allocator ("DefaultCPUAllocator: can't allocate memory: you tried to allocate N bytes",
# "not enough memory" on Windows) and CUDA ("CUDA out of memory") raise plain RuntimeErrors
_OUT_OF_MEMORY = ("can't allocate memory", "not enough memory", "out of memory")
_BYTES = re.compile(r"allocate (\d+) bytes")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a failed allocation (MemoryError, or torch's RuntimeError for one)."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(words in text for words in _OUT_OF_MEMORY)


def allocation_failed(exc: BaseException) -> str:
    """A few words on the failed allocation: its size when the message gives it."""
    found = _BYTES.search(str(exc))
    if found is None:
        return "an allocation failed"
    return f"an allocation of {int(found.group(1)) / 2**20:,.0f} MiB failed"
