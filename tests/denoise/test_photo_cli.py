"""denoise's outputs as a user meets them: names that never collide, --format/--quality, what a
format cannot keep said in one line, animations and multi-page files refused by name, and the
issue's done-when check with the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from nnkit.denoise.checkpoint import save_checkpoint
from nnkit.denoise.cli import denoise_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_model
from tests.denoise.photo_files import (
    camera_exif,
    exif_summary,
    read_png,
    tiff_exif,
    wide_profile,
    write_png16,
    write_tiff,
)


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    config = RunConfig(arch="unet", width=4, device="cpu")
    return save_checkpoint(
        tmp_path / "tiny.safetensors",
        weights=build_model(config).state_dict(),
        optimizer_state=None,
        config=config,
        epoch=1,
        step=1,
        best_psnr=20.0,
    )


def flat(path: Path, value: int, fmt: str) -> Path:
    Image.fromarray(np.full((16, 20, 3), value, np.uint8)).save(
        path, format=fmt, **({"lossless": True} if fmt == "WEBP" else {})
    )
    return path


def means(folder: Path) -> dict[str, float]:
    return {p.name: round(float(np.asarray(Image.open(p)).mean())) for p in sorted(folder.iterdir())}


# -- names that never collide --------------------------------------------------------------------
def test_same_stem_photos_in_one_batch_and_one_at_a_time(tmp_path: Path, ckpt: Path, capsys) -> None:
    """Before: x_denoised.png, x_denoised-1.png, x_denoised-2.png by batch order, and x.png alone with
    --overwrite replaced the bmp's result (mean 30 -> 130)."""
    folder = tmp_path / "in"
    folder.mkdir()
    flat(folder / "x.bmp", 30, "BMP"), flat(folder / "x.webp", 80, "WEBP"), flat(folder / "x.png", 130, "PNG")
    out = tmp_path / "out"
    run = ["-o", str(out), "--checkpoint", str(ckpt), "--strength", "0", "-q", "--overwrite"]
    assert denoise_main([str(folder), *run]) == 0
    expected = {"x.bmp.denoised.png": 30, "x.png.denoised.png": 130, "x.webp.denoised.png": 80}
    assert means(out) == expected
    for name in ("x.png", "x.bmp", "x.webp"):  # one at a time, in any order: each replaces only its own
        assert denoise_main([str(folder / name), *run]) == 0
        assert means(out) == expected
    assert denoise_main([str(folder / "x.webp"), str(folder), *run]) == 0  # named twice: done once
    assert means(out) == expected
    assert "Traceback" not in capsys.readouterr().err


def test_recursive_keeps_sub_folders_so_same_names_do_not_meet(tmp_path: Path, ckpt: Path) -> None:
    for sub, value in (("100", 40), ("101", 200)):
        (tmp_path / "dcim" / sub).mkdir(parents=True)
        flat(tmp_path / "dcim" / sub / "IMG_0001.png", value, "PNG")
    out = tmp_path / "out"
    assert (
        denoise_main([str(tmp_path / "dcim"), "-r", "-o", str(out), "--checkpoint", str(ckpt), "--strength", "0"]) == 0
    )
    assert means(out / "100") == {"IMG_0001.png.denoised.png": 40}
    assert means(out / "101") == {"IMG_0001.png.denoised.png": 200}


# -- output types -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "suffix", "pillow"),
    [("tiff", "tif", "TIFF"), ("jpg", "jpg", "JPEG"), ("WebP", "webp", "WEBP"), ("png", "png", "PNG")],
)
def test_format_chooses_the_output_type(tmp_path: Path, ckpt: Path, fmt: str, suffix: str, pillow: str) -> None:
    src = flat(tmp_path / "a.png", 90, "PNG")
    assert denoise_main([str(src), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--format", fmt]) == 0
    assert Image.open(tmp_path / "o" / f"a.png.denoised.{suffix}").format == pillow


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--format", "gif"], "unknown output format 'gif'"),
        (["--quality", "0"], "--quality must be between 1 and 100"),
        (["--quality", "101"], "--quality must be between 1 and 100"),
    ],
)
def test_bad_format_flags_exit_2(tmp_path: Path, ckpt: Path, flags: list[str], message: str, capsys) -> None:
    src = flat(tmp_path / "a.png", 90, "PNG")
    assert denoise_main([str(src), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_quality_without_a_lossy_format_is_said_to_be_ignored(tmp_path: Path, ckpt: Path, capsys) -> None:
    src = flat(tmp_path / "a.png", 90, "PNG")
    assert denoise_main([str(src), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--quality", "50"]) == 0
    assert "--quality is for --format jpeg or webp; ignored" in capsys.readouterr().err
    assert Image.open(tmp_path / "o" / "a.png.denoised.png").format == "PNG"


def test_jpeg_quality_and_what_jpeg_cannot_keep_is_said(tmp_path: Path, ckpt: Path, capsys) -> None:
    rgba = np.random.default_rng(0).integers(0, 65536, (24, 32, 4), dtype=np.uint16)
    src = write_png16(tmp_path / "deep.png", rgba)
    sizes = []
    for quality in ("40", "98"):
        out = tmp_path / f"q{quality}"
        args = [str(src), "-o", str(out), "--checkpoint", str(ckpt), "--strength", "0", "--format", "jpeg"]
        assert denoise_main([*args, "--quality", quality, "-q"]) == 0
        err = capsys.readouterr().err
        assert "JPEG holds 8 bits" in err and "JPEG has no alpha: the transparency is dropped" in err
        result = out / "deep.png.denoised.jpg"
        assert Image.open(result).mode == "RGB"
        sizes.append(result.stat().st_size)
    assert sizes[0] < sizes[1]


def test_float_tiff_kept_float_or_said_when_png_is_asked(tmp_path: Path, ckpt: Path, capsys) -> None:
    values = np.random.default_rng(1).random((16, 24, 3), dtype=np.float32)
    values[0, 0] = (1.5, -0.25, 0.5)  # outside [0, 1]: kept as they are at strength 0
    src = write_tiff(tmp_path / "f.tif", values)
    run = [str(src), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--strength", "0"]
    assert denoise_main(run) == 0
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o" / "f.tif.denoised.tif"), values)
    assert denoise_main([*run, "--format", "png"]) == 0
    assert "PNG has no float samples: written 16-bit" in capsys.readouterr().err
    samples, depth = read_png(tmp_path / "o" / "f.tif.denoised.png")
    assert depth == 16 and np.abs(samples[1:, 1:] / 65535 - values[1:, 1:]).max() <= 0.5 / 65535 + 1e-7


# -- one clear line for multi-frame files --------------------------------------------------------
def test_animations_and_multi_page_files_are_refused_by_name(tmp_path: Path, ckpt: Path, capsys) -> None:
    """Before: the first frame only, no warning."""
    frames = [Image.fromarray(np.full((12, 12, 3), v, np.uint8)) for v in (10, 120, 240)]
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("anim.gif", "anim.png", "pages.tif"):
        frames[0].save(folder / name, save_all=True, append_images=frames[1:])
    flat(folder / "still.png", 60, "PNG")
    out = tmp_path / "out"
    assert denoise_main([str(folder), "-o", str(out), "--checkpoint", str(ckpt)]) == 0  # found in a folder: skipped
    err = capsys.readouterr().err
    assert "anim.gif: has 3 frames (an animation)" in err and "anim.png: has 3 frames" in err
    assert "pages.tif: has 3 pages" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["still.png.denoised.png"]
    assert denoise_main([str(folder / "anim.gif"), "-o", str(out), "--checkpoint", str(ckpt)]) == 1  # named: error
    err = capsys.readouterr().err
    assert "error: cannot read image" in err and "has 3 frames" in err and len(err.strip().splitlines()) <= 3


# -- the done-when check, with the shipped model -----------------------------------------
def test_done_when_16_bit_rgba_png_16_bit_tiff_and_jpeg_come_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    p3, exif = wide_profile(), camera_exif(6)
    rgba = rng.integers(0, 65536, (40, 56, 4), dtype=np.uint16)
    rgba[:, :20, 3] = 0  # a transparent left part: its colours stay as they were
    png = write_png16(tmp_path / "rgba16.png", rgba, p3, exif)
    tif = write_tiff(tmp_path / "rgb16.tif", rng.integers(0, 65536, (40, 56, 3), dtype=np.uint16), p3)
    rgb8 = np.asarray(Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)).resize((56, 40)))
    jpg = tmp_path / "photo.jpg"
    Image.fromarray(rgb8).save(jpg, quality=95, icc_profile=p3, exif=b"Exif\0\0" + camera_exif(1))
    out = tmp_path / "out"
    assert denoise_main([str(png), str(tif), "-o", str(out), "--strength", "0", "-q"]) == 0
    assert denoise_main([str(jpg), "-o", str(out), "--strength", "0", "--format", "jpeg", "-q"]) == 0

    samples, depth = read_png(out / "rgba16.png.denoised.png")  # orientation 6 applied: turned upright
    assert depth == 16 and np.array_equal(samples, np.rot90(rgba, 3))
    result = Image.open(out / "rgba16.png.denoised.png")
    assert result.info["icc_profile"] == p3
    assert exif_summary(result.getexif()) == {**exif_summary(Image.open(png).getexif()), "orientation": 1}

    with tifffile.TiffFile(out / "rgb16.tif.denoised.tif") as result_tif:
        page = result_tif.pages[0]
        assert np.array_equal(page.asarray(), tifffile.imread(tif)) and page.dtype == np.uint16
        assert bytes(page.tags[34675].value) == p3
    assert exif_summary(tiff_exif(out / "rgb16.tif.denoised.tif")) == exif_summary(tiff_exif(tif))

    back = Image.open(out / "photo.jpg.denoised.jpg")
    source = np.asarray(Image.open(jpg)).astype(int)
    assert back.mode == "RGB" and back.info["icc_profile"] == p3
    assert exif_summary(back.getexif()) == exif_summary(Image.open(jpg).getexif())
    requantised = tmp_path / "resaved.jpg"  # JPEG's requantisation: the decoded photo saved again, as denoise does
    Image.fromarray(source.astype(np.uint8)).save(requantised, quality=95, subsampling=0)
    assert np.array_equal(np.asarray(back), np.asarray(Image.open(requantised)))
