"""``denoise --strength 0``, called as a user calls it, gives the photo back: pixels, mode, bit depth,
alpha, ICC profile and EXIF (the orientation applied to the pixels once, then reset to 1).

Hypothesis draws the photo: PNG (8/16-bit), TIFF (8/16-bit, float), JPEG, WebP; grey or colour;
with or without alpha, a colour profile, EXIF and each orientation. Files are written and read
back by tests/denoise/photo_files.py, not by nnkit.denoise.photo.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from nnkit.denoise.checkpoint import save_checkpoint
from nnkit.denoise.cli import denoise_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_model
from tests.denoise.photo_files import (
    camera_exif,
    exif_summary,
    oriented_indices,
    read_png,
    srgb_profile,
    tiff_exif,
    wide_profile,
    write_png16,
    write_tiff,
)

PROFILES = {None: None, "sRGB": srgb_profile(), "wide": wide_profile()}


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = RunConfig(arch="unet", width=4, device="cpu")
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    return save_checkpoint(
        path,
        weights=build_model(config).state_dict(),
        optimizer_state=None,
        config=config,
        epoch=1,
        step=1,
        best_psnr=20.0,
    )


@dataclass(frozen=True)
class Case:
    kind: str  # png, tiff, jpeg, webp
    depth: int  # 8, 16, 32 (float)
    grey: bool
    alpha: bool
    profile: str | None
    orientation: int | None  # None: no EXIF
    height: int
    width: int
    seed: int


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["png", "tiff", "jpeg", "webp"]))
    depth = draw(st.sampled_from({"png": [8, 16], "tiff": [8, 16, 32], "jpeg": [8], "webp": [8]}[kind]))
    return Case(
        kind=kind,
        depth=depth,
        grey=draw(st.booleans()) if kind != "webp" else False,  # WebP has no grey
        alpha=draw(st.booleans()) if kind != "jpeg" else False,
        profile=draw(st.sampled_from(list(PROFILES))),
        orientation=draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8])),
        height=draw(st.integers(16, 48)),
        width=draw(st.integers(16, 64)),
        seed=draw(st.integers(0, 2**16)),
    )


def _samples(case: Case) -> np.ndarray:
    rng = np.random.default_rng(case.seed)
    shape = (case.height, case.width, (1 if case.grey else 3) + case.alpha)
    if case.depth == 32:
        return rng.random(shape, dtype=np.float32)
    return rng.integers(0, 2**case.depth, shape, dtype=np.uint16 if case.depth == 16 else np.uint8)


def write_source(folder: Path, case: Case) -> tuple[Path, np.ndarray]:
    """The photo file and its stored samples (H, W, C) as any reader decodes them."""
    samples = _samples(case)
    icc = PROFILES[case.profile]
    exif = camera_exif(case.orientation) if case.orientation is not None else None
    path = folder / f"photo.{'tif' if case.kind == 'tiff' else case.kind}"
    if case.kind == "tiff":
        return write_tiff(path, samples, icc, case.orientation), samples
    if case.depth == 16:
        return write_png16(path, samples, icc, exif), samples
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[samples.shape[2]]
    image = Image.fromarray(samples[:, :, 0] if mode == "L" else samples, mode=mode)
    meta: dict[str, object] = {k: v for k, v in (("icc_profile", icc), ("exif", exif)) if v is not None}
    if case.kind == "jpeg":
        if exif is not None:
            meta["exif"] = b"Exif\0\0" + exif  # a JPEG's APP1 starts so; Pillow adds nothing
        image.save(path, quality=90, **meta)
        decoded = np.asarray(Image.open(path))
        return path, decoded[:, :, None] if decoded.ndim == 2 else decoded
    image.save(path, **({"lossless": True, "exact": True} if case.kind == "webp" else {}), **meta)
    return path, samples


def source_exif(path: Path, case: Case) -> dict[str, object]:
    exif = tiff_exif(path) if case.kind == "tiff" else Image.open(path).getexif()
    summary = exif_summary(exif)
    if summary["orientation"] is not None:
        summary["orientation"] = 1  # applied to the pixels, then reset
    return summary


def read_result(path: Path) -> tuple[np.ndarray, str, bytes | None, dict[str, object]]:
    """(samples (H, W, C), 'uint8'/'uint16'/'float32', ICC profile, EXIF summary) of denoise's output."""
    if path.suffix == ".tif":
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            samples = page.asarray()
            icc_tag = page.tags.get(34675)
            icc = bytes(icc_tag.value) if icc_tag is not None else None
        samples = samples[:, :, None] if samples.ndim == 2 else samples
        return samples, str(samples.dtype), icc, exif_summary(tiff_exif(path))
    image = Image.open(path)
    icc, exif = image.info.get("icc_profile"), exif_summary(image.getexif())
    samples, depth = read_png(path)
    return samples, f"uint{depth}", icc, exif


@given(case=cases())
def test_strength_0_gives_the_photo_back(case: Case, tiny_ckpt: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        src, samples = write_source(Path(folder), case)
        out = Path(folder) / "out"
        assert denoise_main([str(src), "-o", str(out), "--strength", "0", "--checkpoint", str(tiny_ckpt), "-q"]) == 0
        result = out / f"{src.name}.denoised.{'tif' if case.kind == 'tiff' else 'png'}"
        got, dtype, icc, exif = read_result(result)
        h, w = case.height, case.width
        index = oriented_indices(h, w, case.orientation or 1)
        expected = samples.reshape(h * w, -1)[index]
        assert dtype == str(samples.dtype)  # bit depth (and float) kept
        assert got.shape == expected.shape  # grey stays grey, alpha stays, the orientation applied
        np.testing.assert_array_equal(got, expected)  # alpha included, untouched
        assert icc == PROFILES[case.profile]
        assert exif == source_exif(src, case)
