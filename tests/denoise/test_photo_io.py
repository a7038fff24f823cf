"""nnkit.denoise.photo on its own: odd modes, EXIF kept byte for byte, bad files in one line, save_like's API."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nnkit.denoise.imageio import ImageReadError
from nnkit.denoise.photo import read_photo, result_name, save_like
from nnkit.denoise.photo.metadata import orientation, reset_orientation
from tests.denoise.photo_files import camera_exif, read_png, write_png16


def test_exif_is_kept_byte_for_byte_but_the_orientation(tmp_path: Path) -> None:
    exif = camera_exif(6)
    src = write_png16(tmp_path / "a.png", np.zeros((6, 4, 3), np.uint16), exif=exif)
    photo = read_photo(src)
    assert photo.rgb.shape == (4, 6, 3) and orientation(photo.exif) == 1  # turned upright once
    changed = [i for i, (a, b) in enumerate(zip(photo.exif or b"", exif, strict=True)) if a != b]
    assert len(changed) == 1 and orientation(exif) == 6  # the orientation value's one byte (little-endian)
    assert reset_orientation(photo.exif or b"") == photo.exif  # reading it again turns nothing


@pytest.mark.parametrize(
    ("make", "grey", "alpha", "note"),
    [
        (lambda p: Image.new("1", (8, 6), 1).save(p), True, False, "a 1-bit photo comes back 8-bit grey"),
        (lambda p: Image.new("P", (8, 6)).save(p, transparency=0), True, True, None),  # a grey palette
        (lambda p: Image.new("RGB", (8, 6), (200, 10, 10)).convert("P").save(p), False, False, "palette photo"),
        (lambda p: Image.new("L", (8, 6), 9).save(p, transparency=9), True, True, None),  # grey + tRNS
    ],
)
def test_odd_modes(tmp_path: Path, make, grey: bool, alpha: bool, note: str | None) -> None:  # type: ignore[no-untyped-def]
    make(tmp_path / "a.png")
    photo = read_photo(tmp_path / "a.png")
    assert (photo.grey, photo.alpha is not None, photo.dtype) == (grey, alpha, np.uint8)
    assert (note is None and not photo.notes) or any(note in n for n in photo.notes)
    written, _ = save_like(photo, photo.rgb, tmp_path / "b.png")
    samples, depth = read_png(written)
    assert depth == 8 and samples.shape[2] == (1 if grey else 3) + alpha


def test_cmyk_jpeg_comes_back_rgb_without_its_cmyk_profile(tmp_path: Path) -> None:
    Image.new("CMYK", (8, 8), (10, 20, 30, 40)).save(tmp_path / "c.jpg", icc_profile=b"not an RGB profile")
    photo = read_photo(tmp_path / "c.jpg")
    assert photo.icc is None and "CMYK colour profile" in photo.notes[0]


def test_8_bit_lzw_tiff_is_read_through_pillow(tmp_path: Path) -> None:
    """tifffile needs imagecodecs for LZW; Pillow reads 8-bit and 16-bit grey ones whole."""
    grey16 = (np.arange(48, dtype=np.uint16).reshape(6, 8) * 1000).astype(np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g.tif", compression="tiff_lzw")
    photo = read_photo(tmp_path / "g.tif")
    assert photo.dtype == np.uint16 and photo.grey
    np.testing.assert_array_equal(np.rint(photo.rgb[:, :, 0] * 65535), grey16)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"II*\x00\x08\x00\x00\x00" + b"\xff" * 10, "broken TIFF"),
        (b"II*\x00hello", "broken TIFF (no readable image in it)"),
        (b"\x89PNG\r\n\x1a\n", "cannot read image"),
    ],
)
def test_broken_files_are_one_line(tmp_path: Path, content: bytes, message: str, capfd) -> None:
    (tmp_path / "x.tif").write_bytes(content)
    with pytest.raises(ImageReadError, match=r"x\.tif") as info:
        read_photo(tmp_path / "x.tif")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert capfd.readouterr().err == ""  # nothing logged or warned besides


def test_a_huge_tiff_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tifffile

    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 50), np.uint16))
    monkeypatch.setattr("nnkit.denoise.photo.read.MAX_PIXELS", 1999)
    with pytest.raises(ImageReadError, match="50x40 pixels is outside the limits"):
        read_photo(tmp_path / "big.tif")


def test_save_like_refuses_what_it_should(tmp_path: Path) -> None:
    photo = read_photo(write_png16(tmp_path / "a.png", np.ones((4, 5, 3), np.uint16)))
    target = tmp_path / result_name(tmp_path / "a.png")
    assert target.name == "a.png.denoised.png"
    save_like(photo, photo.rgb, target)
    before = target.read_bytes()
    with pytest.raises(FileExistsError):
        save_like(photo, photo.rgb * 0, target)
    with pytest.raises(ValueError, match="differs from the photo"):
        save_like(photo, photo.rgb[:2], target, overwrite=True)
    with pytest.raises(ValueError, match=r"unknown suffix '\.gif'"):
        save_like(photo, photo.rgb, tmp_path / "a.gif")
    with pytest.raises(ValueError, match="quality"):
        save_like(photo, photo.rgb, tmp_path / "a.jpg", quality=0)
    assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["a.png", target.name]
    save_like(photo, photo.rgb * 0, target, overwrite=True)
    assert read_png(target)[0].max() == 0


def test_the_app_save_path_gives_what_denoise_writes(tmp_path: Path) -> None:
    """The app's Save: read_photo, Denoiser.denoise_float, save_like -> the same file as the CLI's."""
    from nnkit.denoise.cli import denoise_main
    from nnkit.denoise.inference import Denoiser

    rng = np.random.default_rng(3)
    src = write_png16(tmp_path / "p.png", rng.integers(0, 65536, (40, 48, 4), dtype=np.uint16), exif=camera_exif(3))
    assert denoise_main([str(src), "-o", str(tmp_path / "cli"), "--sigma", "20", "-q"]) == 0
    denoiser = Denoiser.from_checkpoint(device="cpu")
    photo = read_photo(src)
    result = denoiser.denoise_float(photo.rgb, sigma=20)
    saved, notes = save_like(photo, result, tmp_path / "app" / result_name(src))
    assert not notes and saved.name == "p.png.denoised.png"
    cli_samples, app_samples = read_png(tmp_path / "cli" / saved.name), read_png(saved)
    assert cli_samples[1] == app_samples[1] == 16 and np.array_equal(cli_samples[0], app_samples[0])
    assert not np.array_equal(app_samples[0][..., :3], read_png(src)[0][::-1, ::-1, :3])  # it was denoised
    np.testing.assert_array_equal(app_samples[0][..., 3], read_png(src)[0][::-1, ::-1, 3])  # alpha untouched


@pytest.mark.parametrize("channels", [1, 3])
def test_a_16_bit_transparent_colour_becomes_alpha(tmp_path: Path, channels: int) -> None:
    samples = np.random.default_rng(0).integers(0, 65536, (6, 7, channels), dtype=np.uint16)
    samples[2, 3] = 4660  # 0x1234, the transparent colour
    src = write_png16(tmp_path / "k.png", samples, key=b"\x12\x34" * channels)
    photo = read_photo(src)
    assert photo.alpha is not None and photo.alpha.dtype == np.uint16
    assert photo.alpha[2, 3] == 0 and (photo.alpha == 0).sum() == 1 and photo.alpha.max() == 65535
