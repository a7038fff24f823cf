"""Denoise view: drop a PNG, see it denoised with a tiny checkpoint, save it; bad files are reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from denoise_gui.denoise.view import default_output_path, expand_paths
from denoise_gui.main_window import DENOISE, MainWindow
from nnkit.denoise.imageio import read_image

# QDragEnterEvent's only constructor takes a QPoint, which PySide flags as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def drop(window: MainWindow, *paths: Path) -> None:
    """Simulate dragging files onto the window and dropping them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    actions = Qt.DropAction.CopyAction
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(window.rect().center(), actions, mime, left, none)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(window.rect().center()), actions, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_dropped_png_is_denoised_shown_and_saved(qtbot: Any, make_window: Callable[..., MainWindow],
                                                 tiny_checkpoint: Path, photo: Path) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    assert "tiny.safetensors" in view.model_label.text()
    assert "tiny.safetensors" in window.status.checkpoint_label.text()
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        drop(window, photo)
        assert window.tabs.currentIndex() == DENOISE
    item = view.items[str(photo)]
    assert item.status == "done" and item.denoised is not None and item.denoised.shape == (40, 48, 3)
    assert view.compare.right_canvas.left is not None
    left = view.compare.left_canvas.left
    assert left is not None and left.shape == (40, 48, 3)
    original_bytes = photo.read_bytes()
    saved = view.save_current()
    assert saved == photo.with_name("photo.png.denoised.png")
    assert np.array_equal(read_image(saved), item.denoised)
    assert photo.read_bytes() == original_bytes
    assert view.save_current(photo) is None  # never over the original
    assert photo.read_bytes() == original_bytes
    assert view.save_current() == photo.with_name("photo.png.denoised-2.png")


def test_non_image_gets_a_message_and_the_batch_goes_on(qtbot: Any, make_window: Callable[..., MainWindow],
                                                        tiny_checkpoint: Path, photo: Path, tmp_path: Path) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    junk = tmp_path / "notes.txt"
    junk.write_text("not a photo")
    messages: list[str] = []
    view.sigStatus.connect(messages.append)
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        drop(window, junk, photo)
    assert view.items[str(junk)].status == "failed"
    assert any("notes.txt" in m for m in messages)
    assert "notes.txt" in view.items[str(junk)].message
    assert view.items[str(photo)].status == "done"


def test_linked_zoom_and_pan(qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path,
                             photo: Path) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    from PySide6.QtCore import QPointF

    left, right = view.compare.left_canvas, view.compare.right_canvas
    left.zoom_by(3.0, QPointF(10, 12))
    corner = QPointF(5, 5)
    assert left.to_image(corner) == right.to_image(corner)
    assert right.state.scale == pytest.approx(left.fit_scale() * 3.0)


def test_cancel_stops_a_slow_batch(qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path,
                                   photo: Path) -> None:
    def slow(model: Any, image: np.ndarray, *, progress: Any, cancel: Any) -> np.ndarray:
        for done in range(200):
            if cancel():
                raise RuntimeError("cancelled")
            progress(done, 200)
            time.sleep(0.01)
        return image

    window = make_window(checkpoint=tiny_checkpoint, denoise=slow)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=10_000):
        window.open_paths([str(photo), str(photo.with_name("other.png"))])
        qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=5000)
        window.escape()
    assert {item.status for item in view.items.values()} == {"cancelled"}
    assert not view.is_busy()


def test_no_model_says_what_to_do(make_window: Callable[..., MainWindow], photo: Path) -> None:
    window = make_window(checkpoint=None)
    assert window.open_paths([str(photo)]) == 0
    assert "Ctrl+L" in window.denoise_view.message.text()


def test_folders_expand_to_their_images(tmp_path: Path, photo: Path) -> None:
    (tmp_path / "readme.txt").write_text("x")
    photo.with_name("photo.png.denoised.png").write_bytes(photo.read_bytes())
    photo.with_name("photo.png.denoised-2.png").write_bytes(photo.read_bytes())
    assert expand_paths([tmp_path]) == [str(photo)]  # the app's and denoise's results are not photos to denoise
    assert default_output_path(photo) == photo.with_name("photo.png.denoised-3.png")
    assert default_output_path(tmp_path / "scan.tif").name == "scan.tif.denoised.tif"  # a TIFF stays TIFF


def test_save_keeps_depth_alpha_profile_and_exif(qtbot: Any, make_window: Callable[..., MainWindow],
                                                 tiny_checkpoint: Path, tmp_path: Path) -> None:
    """A 16-bit RGBA PNG with a colour profile and EXIF is saved by the app as one, its alpha untouched."""
    from PIL import Image, ImageCms

    from nnkit.denoise.photo import Photo, read_photo, save_like

    rng = np.random.default_rng(1)
    exif = Image.Exif()
    exif[0x010F] = "nnkit test camera"
    made = Photo(rgb=rng.random((40, 48, 3), dtype=np.float32), dtype=np.dtype(np.uint16),
                 alpha=(rng.integers(0, 65536, (40, 48)) * (np.arange(48) >= 24)).astype(np.uint16),
                 icc=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), exif=exif.tobytes())
    photo, _ = save_like(made, made.rgb, tmp_path / "p16.png")
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    saved = view.save_current()
    assert saved == photo.with_name("p16.png.denoised.png")
    back, given = read_photo(saved), read_photo(photo)
    assert back.dtype == np.uint16 and back.alpha is not None and given.alpha is not None
    assert np.array_equal(back.alpha, given.alpha)
    assert back.icc == given.icc is not None
    assert Image.open(saved).getexif()[0x010F] == "nnkit test camera"
    denoised = view.items[str(photo)].denoised
    assert denoised is not None and np.abs(back.rgb * 255 - denoised).max() <= 0.51  # the shown result: its 8 bits


def test_a_drop_is_taken_as_a_copy_and_the_dropped_photo_is_shown(
        qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, photo: Path) -> None:
    """A file manager proposing Move (and honouring it) would delete the user's original: we take a Copy."""
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    second = photo.with_name("second.png")
    second.write_bytes(photo.read_bytes())
    offered = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    left, shift = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier  # Shift: Move is proposed
    for path in (photo, second):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        enter = QDragEnterEvent(window.rect().center(), offered, mime, left, shift)
        assert enter.proposedAction() == Qt.DropAction.MoveAction
        window.dragEnterEvent(enter)
        assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
        event = QDropEvent(QPointF(window.rect().center()), offered, mime, left, shift)
        assert event.proposedAction() == Qt.DropAction.MoveAction
        with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
            window.dropEvent(event)
        assert event.isAccepted() and event.dropAction() == Qt.DropAction.CopyAction
        assert view.current_path() == str(path)  # the photo just dropped is the one shown
        assert view.compare.left_canvas.left is not None
    assert photo.is_file() and second.is_file()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    move_only = QDragEnterEvent(window.rect().center(), Qt.DropAction.MoveAction, mime, left, shift)
    window.dragEnterEvent(move_only)
    assert not move_only.isAccepted()


def test_drops_reach_the_window_from_any_field(make_window: Callable[..., MainWindow]) -> None:
    from PySide6.QtWidgets import QLineEdit

    window = make_window()
    editors = window.findChildren(QLineEdit)
    assert editors and not any(editor.acceptDrops() for editor in editors)
    assert window.acceptDrops()


def test_closing_mid_denoise_stops_the_worker(qtbot: Any, make_window: Callable[..., MainWindow],
                                              tiny_checkpoint: Path, photo: Path) -> None:
    def slow(model: Any, image: np.ndarray, *, progress: Any, cancel: Any) -> np.ndarray:
        for done in range(1000):
            if cancel():
                raise RuntimeError("cancelled")
            progress(done, 1000)
            time.sleep(0.01)
        return image

    window = make_window(checkpoint=tiny_checkpoint, denoise=slow)
    view = window.denoise_view
    window.open_paths([str(photo)])
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=5000)
    job = view.job
    assert job is not None
    began = time.monotonic()
    window.close()
    assert not job.qthread.isRunning() and time.monotonic() - began < 1.0
    assert not photo.with_name("photo_denoised.png").exists()
