"""What the Denoise view holds: the photos opened, each with every result made of it (plain Python, no Qt)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nnkit.denoise.photo import is_result_name, result_path

DEFAULT_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def image_suffixes() -> tuple[str, ...]:
    """Suffixes taken from a dropped folder (nnkit.denoise.imageio.IMAGE_SUFFIXES when present)."""
    try:
        from nnkit.denoise.imageio import IMAGE_SUFFIXES

        return tuple(s.lower() for s in IMAGE_SUFFIXES)
    except ImportError:
        return DEFAULT_SUFFIXES


def expand_paths(paths: Iterable[str | Path]) -> list[str]:
    """Files as given; folders replaced by the image files inside them (sorted, recursive)."""
    suffixes = image_suffixes()
    out: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                str(p) for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in suffixes and not is_result_name(p.name)
            )
        else:
            out.append(str(path))
    return out


def default_output_path(original: str | Path) -> Path:
    """'<name>.denoised.<type>' beside the original, as `denoise` names it ('x.jpg.denoised.png'; TIFF
    for a TIFF); '...denoised-2.png' and on when that exists: never the original, never an existing file."""
    source = Path(original)
    candidate = result_path(source, source.parent)
    counter = 2
    while candidate.exists() or candidate.resolve() == source.resolve():
        base = result_path(source, source.parent)
        candidate = base.with_name(f"{base.stem}-{counter}{base.suffix}")
        counter += 1
    return candidate


@dataclass
class DenoiseResult:
    """One result of one photo, and the model that made it."""

    model: str
    image: np.ndarray  # uint8 (H, W, 3), shown: while working the canvas filling in, then the final result
    done: bool = False
    full: np.ndarray | None = None  # a 16-bit or float photo's result at its precision (uint16/float32), for Save
    difference: np.ndarray | None = None
    quality: Any = None  # nnkit.denoise.quality.photo_compare.Quality against the clean reference, when there is one
    saved_to: str = ""


@dataclass
class DenoiseItem:
    """One file of the batch: its original, its results (several models), and what became of it."""

    path: str
    status: str = "queued"  # queued | working | done | failed | cancelled
    original: np.ndarray | None = None  # uint8 (H, W, 3), as shown
    depth: str = ""  # the photo's samples once read: '8-bit', '16-bit' or '32-bit float'
    results: list[DenoiseResult] = field(default_factory=list)
    shown: int = -1  # index of the result shown (-1: none)
    message: str = ""
    eta_s: float = float("nan")
    sigma: float = float("nan")  # the engine's estimate of the photo's noise level (0-255)
    tiles: tuple[int, int] = (0, 0)
    reference: str = ""  # clean reference file, if the user pointed at one
    original_quality: Any = None  # the original against the reference

    @property
    def name(self) -> str:
        """The file's name."""
        return Path(self.path).name

    @property
    def denoised(self) -> np.ndarray | None:
        """The shown result, when finished."""
        result = self.shown_result()
        return result.image if result is not None and result.done else None

    @property
    def saved_to(self) -> str:
        """Where the shown result was saved ('' if not yet)."""
        result = self.shown_result()
        return result.saved_to if result is not None else ""

    def known_original(self) -> np.ndarray | None:
        """The original to denoise again without reading the file: an 8-bit photo's only (a deeper one is read
        again, so that it is denoised at its own precision and not from its 8-bit copy)."""
        return self.original if self.depth == "8-bit" else None

    def shown_result(self) -> DenoiseResult | None:
        """The result on screen, if any."""
        return self.results[self.shown] if 0 <= self.shown < len(self.results) else None

    def result_by(self, model: str) -> DenoiseResult | None:
        """The finished result this model made, if any."""
        return next((r for r in self.results if r.model == model and r.done), None)
