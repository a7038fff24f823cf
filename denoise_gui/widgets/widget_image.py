"""A widget saved as it is shown: PNG (or another raster format Qt writes) by suffix, or SVG."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget


def save_widget_image(target: QWidget, path: Path, *, title: str = "") -> Path:
    """Render ``target`` into ``path`` (SVG by its suffix, else a raster image); raises OSError if not written."""
    if path.suffix.lower() == ".svg":
        from PySide6.QtSvg import QSvgGenerator

        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(target.size())
        generator.setViewBox(QRect(QPoint(0, 0), target.size()))
        generator.setTitle(title)
        painter = QPainter(generator)
        try:
            target.render(painter, QPoint(0, 0))
        finally:
            painter.end()
        if not path.is_file():
            raise OSError(f"could not write {path}")
        return path
    if not target.grab().save(str(path)):
        raise OSError(f"could not write {path} (unknown image format {path.suffix!r}?)")
    return path
