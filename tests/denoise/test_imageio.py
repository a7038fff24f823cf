"""read_image / write_image / list_images on tiny files of every supported kind."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nnkit.denoise.imageio import (
    IMAGE_SUFFIXES,
    MAX_PIXELS,
    ImageReadError,
    image_to_tensor,
    list_images,
    read_image,
    tensor_to_image,
    write_image,
)


def _pattern(h: int = 6, w: int = 5) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".tiff", ".bmp", ".webp"])
def test_lossless_formats_round_trip(tmp_path: Path, suffix: str) -> None:
    image = _pattern()
    path = write_image(tmp_path / f"a{suffix}", image)
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (6, 5, 3)
    np.testing.assert_array_equal(out, image)


def test_jpeg_reads_close(tmp_path: Path) -> None:
    image = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    out = read_image(write_image(tmp_path / "a.jpg", image))
    assert out.shape == (16, 16, 3)
    assert np.abs(out.astype(int) - image).max() <= 4


def test_exif_orientation_is_honoured(tmp_path: Path) -> None:
    stored = np.zeros((4, 8, 3), np.uint8)  # 4 rows, 8 columns, left half white
    stored[:, :4] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.fromarray(stored).save(tmp_path / "rot.jpg", exif=exif.tobytes(), quality=100)
    out = read_image(tmp_path / "rot.jpg")
    assert out.shape == (8, 4, 3)
    assert out[:4].mean() > 200 and out[4:].mean() < 50  # the white half is now on top


def test_grey_and_grey_alpha(tmp_path: Path) -> None:
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5) * 10
    Image.fromarray(grey, "L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out[:, :, 1], grey)
    la = Image.fromarray(np.stack([grey, np.zeros_like(grey)], axis=2), "LA")
    la.save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), 255)  # fully transparent -> white


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[0, 0, 3] = 255  # opaque red-ish
    rgba[0, 1, 3] = 0  # transparent
    rgba[1, :, 3] = 128  # half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[0, 1]) == (255, 255, 255)
    assert abs(int(out[1, 0, 1]) - 127) <= 1


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_images(tmp_path: Path, suffix: str) -> None:
    image = Image.new("P", (3, 2))
    image.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    image.putdata([0, 1, 2, 2, 1, 0])
    image.save(tmp_path / f"p{suffix}")
    out = read_image(tmp_path / f"p{suffix}")
    assert out.shape == (2, 3, 3)
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[0, 1]) == (0, 255, 0) and tuple(out[1, 0]) == (0, 0, 255)


def test_palette_transparency_and_bilevel(tmp_path: Path) -> None:
    image = Image.new("P", (2, 1))
    image.putpalette([10, 20, 30, 40, 50, 60] + [0] * (254 * 3))
    image.putdata([0, 1])
    image.save(tmp_path / "t.png", transparency=1)
    out = read_image(tmp_path / "t.png")
    assert tuple(out[0, 0]) == (10, 20, 30) and tuple(out[0, 1]) == (255, 255, 255)
    Image.new("1", (3, 3), 1).save(tmp_path / "b.bmp")
    np.testing.assert_array_equal(read_image(tmp_path / "b.bmp"), 255)


def test_16_bit_grey_png(tmp_path: Path) -> None:
    values = np.array([[0, 257 * 128, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    out = read_image(tmp_path / "g16.png")
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 255])


def _png_rgb48(path: Path, values: np.ndarray) -> None:
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one)."""
    h, w, _ = values.shape
    raw = b"".join(b"\x00" + values[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_48_bit_rgb_png(tmp_path: Path) -> None:
    values = np.zeros((2, 2, 3), np.uint16)
    values[0, 0] = (65535, 0, 257 * 100)
    _png_rgb48(tmp_path / "c48.png", values)
    out = read_image(tmp_path / "c48.png")
    assert out.shape == (2, 2, 3)
    assert tuple(out[0, 0]) == (255, 0, 100)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    Image.new("CMYK", (4, 4), (0, 0, 0, 0)).save(tmp_path / "c.jpg")
    out = read_image(tmp_path / "c.jpg")
    assert out.shape == (4, 4, 3) and out.min() > 240


def test_text_file_named_png(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_text("hello, not an image")
    with pytest.raises(ImageReadError, match=r"fake\.png"):
        read_image(path)


def test_truncated_png(tmp_path: Path) -> None:
    path = write_image(tmp_path / "t.png", _pattern(64, 64))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ImageReadError, match=r"t\.png"):
        read_image(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError):
        read_image(tmp_path)


def test_unsupported_format(tmp_path: Path) -> None:
    Image.fromarray(_pattern()).save(tmp_path / "a.ppm")
    with pytest.raises(ImageReadError, match="PPM"):
        read_image(tmp_path / "a.ppm")


def test_content_not_suffix_decides(tmp_path: Path) -> None:
    image = _pattern()
    Image.fromarray(image).save(tmp_path / "really_png.jpg", format="PNG")
    np.testing.assert_array_equal(read_image(tmp_path / "really_png.jpg"), image)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    side = int(MAX_PIXELS**0.5) + 10
    Image.new("1", (side, side)).save(tmp_path / "bomb.png")  # tiny file, huge image
    with pytest.raises(ImageReadError, match="limit"):
        read_image(tmp_path / "bomb.png")


def test_write_refuses_overwrite(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", _pattern())
    with pytest.raises(FileExistsError, match=r"a\.png"):
        write_image(path, _pattern(3, 3))
    write_image(path, _pattern(3, 3), overwrite=True)
    assert read_image(path).shape == (3, 3, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # no temporary files left


def test_write_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="suffix"):
        write_image(tmp_path / "a.xyz", _pattern())
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "a.png", _pattern().astype(np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        write_image(tmp_path / "a.png", np.zeros((2, 2, 4), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_list_images(tmp_path: Path) -> None:
    for name in ["b.PNG", "a.jpg", "c.txt", ".hidden.png", "sub/d.webp"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.PNG"]
    assert [p.name for p in list_images(tmp_path, recursive=True)] == ["a.jpg", "b.PNG", "d.webp"]
    assert ".png" in IMAGE_SUFFIXES and ".webp" in IMAGE_SUFFIXES


def test_tensor_conversions() -> None:
    image = _pattern()
    tensor = image_to_tensor(image)
    assert tensor.shape == (3, 6, 5) and tensor.dtype == torch.float32
    np.testing.assert_array_equal(tensor_to_image(tensor), image)
    np.testing.assert_array_equal(tensor_to_image(tensor.unsqueeze(0) + 5.0), 255)
