"""Item 3 (and the model switch of item 2): split slider, difference, zoom, PSNR/SSIM against a reference,
drop highlight, failures in the pane, large photos filling in; several results per photo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QImage

from denoise_gui.denoise.image_compare import ImageCompare
from denoise_gui.main_window import MainWindow
from nnkit.denoise.imageio import read_image, write_image
from nnkit.denoise.quality.photo_compare import psnr_db

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent's QPoint constructor

RED, BLUE = (200, 0, 0), (0, 0, 200)


def solid(colour: tuple[int, int, int], height: int = 60, width: int = 80) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, 3)).copy()


def pixel(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    colour = image.pixelColor(x, y)
    return colour.red(), colour.green(), colour.blue()


def other_checkpoint(tmp_path: Path, seed: int) -> Path:
    import torch

    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.models import build_model

    torch.manual_seed(seed)
    config = RunConfig(arch="report", width=4, device="cpu", seed=seed)
    return save_checkpoint(tmp_path / f"model-{seed}.safetensors", weights=build_model(config).state_dict(),
                           optimizer_state=None, config=config, epoch=seed, step=seed, best_psnr=20.0)


def test_switching_model_offers_to_redenoise_and_keeps_both_results(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, photo: Path, tmp_path: Path
) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    first = view.items[str(photo)].denoised
    assert first is not None and not view.rerun_bar.isVisibleTo(window)
    assert window.load_checkpoint(other_checkpoint(tmp_path, seed=5))
    assert view.rerun_bar.isVisibleTo(window) and "1 open photo" in view.rerun_label.text()
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        view.rerun_button.click()
    item = view.items[str(photo)]
    assert [r.model.split(" ")[0] for r in item.results] == ["tiny.safetensors", "model-5.safetensors"]
    assert item.shown == 1 and not np.array_equal(item.results[1].image, first)
    assert np.array_equal(item.results[0].image, first)  # the first result is kept as it was
    assert view.result_combo.count() == 2 and view.result_combo.isEnabled()
    view.result_combo.setCurrentIndex(0)
    assert view.compare.result is first and "tiny" in view.compare.result_caption
    saved = view.save_current()
    assert saved is not None and np.array_equal(read_image(saved), first)


def test_split_slider_and_difference_render(qtbot: Any) -> None:
    from nnkit.denoise.quality.photo_compare import difference_image

    compare = ImageCompare()
    qtbot.addWidget(compare)
    compare.resize(600, 400)
    compare.show()
    original, result = solid(RED), solid(BLUE)
    compare.set_images(original, result, difference_image(original, result))
    compare.set_mode("split")
    canvas = compare.left_canvas
    assert not compare.right_canvas.isVisible()
    canvas.set_split(0.5)
    shot = canvas.grab().toImage()
    middle = canvas.height() // 2 + 40  # below the handle
    quarter, three_quarters = (round(canvas.to_widget(QPointF(x, 30)).x()) for x in (20, 60))
    assert pixel(shot, quarter, middle) == RED and pixel(shot, three_quarters, middle) == BLUE
    canvas.set_split(0.9)  # drag the line: the result now shows only on the far right
    assert pixel(canvas.grab().toImage(), three_quarters, middle) == RED
    compare.set_mode("difference")
    shot = canvas.grab().toImage()
    assert pixel(shot, canvas.width() // 2, canvas.height() // 2) == (0, 128, 255)  # 128 + 4 × (result − original)
    compare.set_mode("side")
    assert compare.right_canvas.isVisible()
    right = compare.right_canvas.grab().toImage()
    assert pixel(right, compare.right_canvas.width() // 2, compare.right_canvas.height() // 2) == BLUE


def test_zoom_level_fit_one_to_one_and_keys(qtbot: Any) -> None:
    compare = ImageCompare()
    qtbot.addWidget(compare)
    compare.resize(500, 400)
    compare.show()
    compare.set_images(solid(RED, 1000, 1600), solid(BLUE, 1000, 1600))
    assert compare.zoom_label.text().endswith("(fit)") and "Zoom" in compare.zoom_label.text()
    canvas = compare.left_canvas
    qtbot.keyClick(canvas, Qt.Key.Key_1)
    assert compare.zoom_label.text() == "Zoom 100%"
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert compare.zoom_label.text() == "Zoom 125%"
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert compare.zoom_label.text() == "Zoom 80%"
    qtbot.keyClick(canvas, Qt.Key.Key_0)
    assert compare.zoom_label.text().endswith("(fit)")
    compare.actual_button.click()
    assert compare.state.scale == 1.0
    compare.fit_button.click()
    assert compare.state.fit


def test_psnr_and_ssim_against_a_clean_reference(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    clean = (np.linspace(0, 255, 64)[None, :, None] * np.ones((48, 64, 3))).astype(np.uint8)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    noisy_path, clean_path = write_image(tmp_path / "noisy.png", noisy), write_image(tmp_path / "clean.png", clean)
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(noisy_path)])
    with qtbot.waitSignal(view.sigMeasured, timeout=20_000):
        assert view.set_reference(str(noisy_path), str(clean_path))
    item = view.items[str(noisy_path)]
    assert item.original_quality.psnr_db == pytest.approx(psnr_db(noisy, clean))
    assert item.results[0].quality is not None and 0 < item.results[0].quality.ssim <= 1
    text = view.quality_label.text()
    assert "clean.png" in text and text.count("dB") == 2 and text.count("SSIM") == 2
    small = write_image(tmp_path / "small.png", clean[:20, :20])
    messages: list[str] = []
    view.sigStatus.connect(messages.append)
    with qtbot.waitSignal(view.sigStatus, timeout=20_000):
        view.set_reference(str(noisy_path), str(small))
    assert "differ in size" in messages[-1]


def test_drop_highlight_and_a_failed_files_reason_in_its_pane(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    window = make_window(checkpoint=tiny_checkpoint)
    junk = tmp_path / "holiday.jpg"
    junk.write_text("not really a photo")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(junk))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert window.drop_overlay.isVisible()
    window.dragLeaveEvent(QDragLeaveEvent())
    assert not window.drop_overlay.isVisible()
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(junk)])
    message = view.compare.left_canvas.message
    assert "holiday.jpg" in message and view.items[str(junk)].message.split(": ", 1)[-1] in message


def test_a_large_photo_shows_the_original_at_once_then_fills_in_with_an_eta(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(2)
    big = write_image(tmp_path / "big.png", rng.integers(0, 256, (300, 700, 3), dtype=np.uint8))
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    seen: list[str] = []
    etas: list[float] = []
    window.open_paths([str(big)])
    job = view.job
    assert job is not None
    job.sigLoaded.connect(lambda path, image, depth: seen.append("loaded"))
    job.sigCanvas.connect(lambda path, canvas: seen.append("canvas"))
    def on_progress(path: str, done: int, total: int, eta: float) -> None:
        seen.append(f"tile {done}/{total}")
        etas.append(eta)

    job.sigProgress.connect(on_progress)
    job.sigResult.connect(lambda *args: seen.append("result"))
    with qtbot.waitSignal(view.sigBatchFinished, timeout=60_000):
        pass
    assert seen[0] == "loaded" and seen[1] == "canvas" and seen[-1] == "result"
    tiles = [s for s in seen if s.startswith("tile")]
    assert tiles and tiles[-1] == "tile 6/6"  # 2 × 3 tiles of 256 pixels
    assert np.isfinite(etas[-1])
    item = view.items[str(big)]
    assert item.status == "done" and len(item.results) == 1 and item.results[0].difference is not None
