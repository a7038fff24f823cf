"""A guard against PySide6 dropping references to Python's singletons (CPython before 3.12).

With PySide6 6.12 on Python 3.11, Qt calls into Python overrides hand back some results without
the reference they owe: every repaint of a widget whose paintEvent is in Python (pyqtgraph's
views, ours) costs None one reference, every pyqtgraph ``setData`` costs True two. After some
thousands of them the count reaches zero and the interpreter aborts ("Fatal Python error:
none_dealloc" / "bool_dealloc"; reproduced here in 15 lines, no threads needed). Python 3.12
made these objects immortal, which is exactly the cure, so on older Pythons this module gives
the same objects a reference count too large to ever run out. Nothing is freed that would not
be; the objects concerned are never deallocated anyway.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 40  # ~10^12 lost references
_applied = False


def _immortal_in_312() -> list[object]:
    singletons: list[object] = [None, True, False, Ellipsis, NotImplemented, (), "", b""]
    return singletons + list(range(-5, 257)) + [chr(i) for i in range(256)]


def protect_singletons() -> bool:
    """Make None, True, False, small ints ... effectively immortal on CPython < 3.12; True if done."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"):
        return False  # immortal already, or a build whose object layout differs (debug builds)
    for obj in _immortal_in_312():
        ctypes.c_ssize_t.from_address(id(obj)).value += _HEADROOM
    _applied = True
    return True
