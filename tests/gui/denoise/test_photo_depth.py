"""A 16-bit photo comes out of the Denoise view with 16-bit precision (as `denoise` gives it), not 256 levels
scaled up; an 8-bit photo's result is the same bytes as before (the uint8 path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from denoise_gui.denoise.photo_depth import is_high_depth
from denoise_gui.main_window import MainWindow
from nnkit.denoise.cli import denoise_main
from nnkit.denoise.photo import Photo, quantise, read_photo, save_like


def gradient(height: int = 64, width: int = 96, seed: int = 3) -> np.ndarray:
    """A smooth float RGB gradient (and a little noise) whose 16-bit values use the low bits."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([0.15 + 0.7 * x / width, 0.2 + 0.6 * y / height, 0.3 + 0.2 * (x + y) / (width + height)], axis=2)
    rgb += np.random.default_rng(seed).normal(0.0, 0.02, rgb.shape).astype(np.float32)
    return np.clip(rgb, 0.0, 1.0).astype(np.float32)


def write_photo(path: Path, rgb: np.ndarray, dtype: type, alpha: np.ndarray | None = None) -> Path:
    written, _ = save_like(Photo(rgb=rgb, dtype=np.dtype(dtype), alpha=alpha), rgb, path)
    return written


def samples16(path: Path) -> np.ndarray:
    """A 16-bit result file's colour samples, read back by the project's reader."""
    photo = read_photo(path)
    assert photo.dtype == np.uint16
    return quantise(photo.rgb, np.dtype(np.uint16)).astype(np.int32)


def levels(samples: np.ndarray) -> list[int]:
    return [len(np.unique(samples[:, :, channel])) for channel in range(3)]


def cli_result(photo: Path, checkpoint: Path, out: Path) -> Path:
    assert denoise_main([str(photo), "--checkpoint", str(checkpoint), "-o", str(out), "-q"]) == 0
    return out / f"{photo.name}.denoised{'.tif' if photo.suffix == '.tif' else '.png'}"


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_a_16_bit_photo_is_saved_with_16_bit_precision_as_denoise_gives_it(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path, suffix: str
) -> None:
    photo = write_photo(tmp_path / f"g16{suffix}", gradient(), np.uint16)
    given = samples16(photo)
    assert min(levels(given)) > 256 and np.any(given % 257 != 0)  # the photo itself has more than 8 bits
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    messages: list[str] = []
    view.sigStatus.connect(messages.append)
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    saved = view.save_current()
    assert saved is not None and saved.suffix == suffix
    ours = samples16(saved)
    assert min(levels(ours)) > 256, f"levels per channel {levels(ours)}: 8-bit precision in a 16-bit file"
    cli = samples16(cli_result(photo, tiny_checkpoint, tmp_path / "cli"))
    assert np.abs(ours - cli).max() <= 1  # the same numbers as `denoise` (same model, same correction)
    item = view.items[str(photo)]
    shown = item.denoised
    assert shown is not None and shown.dtype == np.uint8 and shown.shape == (64, 96, 3)  # the display: 8 bits
    assert np.abs(ours / 257.0 - shown).max() <= 0.51  # what was shown is the saved result in 8 bits
    assert item.depth == "16-bit" and f"{photo.name} denoised (96×64, 16-bit) with" in "\n".join(messages)


def test_a_float_tiff_is_saved_as_float_as_denoise_gives_it(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    photo = write_photo(tmp_path / "f32.tif", gradient(), np.float32)
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    saved = view.save_current()
    assert saved is not None and view.items[str(photo)].depth == "32-bit float"
    ours, cli = read_photo(saved), read_photo(cli_result(photo, tiny_checkpoint, tmp_path / "cli"))
    assert ours.dtype == cli.dtype == np.float32
    assert min(len(np.unique(ours.rgb[:, :, c])) for c in range(3)) > 256
    np.testing.assert_allclose(ours.rgb, cli.rgb, rtol=0, atol=1e-6)


def test_redenoising_a_16_bit_photo_reads_it_again_at_its_precision(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    from tests.gui.denoise.test_denoise_closely import other_checkpoint

    photo = write_photo(tmp_path / "g16.png", gradient(), np.uint16)
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    other = other_checkpoint(tmp_path, seed=5)
    assert window.load_checkpoint(other)
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        assert view.redenoise_all() == 1
    item = view.items[str(photo)]
    assert len(item.results) == 2 and all(r.full is not None for r in item.results)
    saved = view.save_current()
    assert saved is not None
    ours = samples16(saved)
    assert min(levels(ours)) > 256
    assert np.abs(ours - samples16(cli_result(photo, other, tmp_path / "cli"))).max() <= 1


def test_a_broken_16_bit_photo_is_reported_by_name_and_the_batch_goes_on(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    whole = write_photo(tmp_path / "whole.png", gradient(), np.uint16)
    broken = tmp_path / "broken.png"
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert is_high_depth(broken)  # its header is whole: read as 16 bits, and the reader says what is wrong
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(broken), str(whole)])
    assert view.items[str(broken)].status == "failed" and "broken.png" in view.items[str(broken)].message
    assert view.items[str(whole)].status == "done" and view.items[str(whole)].results[-1].full is not None


@pytest.mark.parametrize("alpha", [False, True])
def test_an_8_bit_photo_gives_the_same_bytes_as_the_uint8_path(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path, alpha: bool
) -> None:
    """The app denoises an 8-bit photo as before: read_image (an alpha photo on white) and denoise_array."""
    from nnkit.denoise.imageio import read_image
    from nnkit.denoise.inference import Denoiser, denoise_array
    from nnkit.denoise.sigma_estimate import estimate_sigma

    mask = (np.arange(96) >= 48)[None, :].repeat(64, axis=0).astype(np.uint8) * 255 if alpha else None
    photo = write_photo(tmp_path / "g8.png", gradient(), np.uint8, mask)
    window = make_window(checkpoint=tiny_checkpoint)
    view = window.denoise_view
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    item = view.items[str(photo)]
    assert item.depth == "8-bit" and item.results[-1].full is None  # no second copy of an 8-bit result
    saved = view.save_current()
    assert saved is not None
    back = read_photo(saved)
    assert back.dtype == np.uint8 and (back.alpha is not None) == alpha
    image = read_image(photo)
    model = Denoiser.from_checkpoint(tiny_checkpoint, device="cpu").model
    expected = denoise_array(model, image, noise_sigma=estimate_sigma(image), fade_clean=True)
    assert item.denoised is not None and np.array_equal(item.denoised, expected)
    assert np.array_equal(back.rgb8(), expected)


def test_high_depth_is_told_from_the_header(tmp_path: Path) -> None:
    import tifffile

    rgb = gradient(8, 12)
    assert not is_high_depth(write_photo(tmp_path / "a.png", rgb, np.uint8))
    assert not is_high_depth(write_photo(tmp_path / "a.tif", rgb, np.uint8))
    assert not is_high_depth(write_photo(tmp_path / "a.jpg", rgb, np.uint8))
    assert is_high_depth(write_photo(tmp_path / "b.png", rgb, np.uint16))
    assert is_high_depth(write_photo(tmp_path / "b.tif", rgb, np.uint16))
    grey = Photo(rgb=np.repeat(rgb[:, :, :1], 3, axis=2), dtype=np.dtype(np.uint16), grey=True)
    assert is_high_depth(save_like(grey, grey.rgb, tmp_path / "grey.png")[0])
    tifffile.imwrite(tmp_path / "f.tif", rgb, photometric="rgb")
    assert is_high_depth(tmp_path / "f.tif")
    junk = tmp_path / "junk.png"
    junk.write_text("not a photo")
    assert not is_high_depth(junk) and not is_high_depth(tmp_path / "missing.tif")
