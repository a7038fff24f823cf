"""Tiled inference: equal to the untiled result, progress, cancel, files never overwritten."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.inference import (
    Cancelled,
    Denoiser,
    denoise_array,
    denoise_file,
    denoise_tensor,
    output_path,
    tile_starts,
)
from nnkit.layers import Conv2d, ReLU, Sequential, Sigmoid


def small_model(seed: int = 0) -> Sequential:
    """Three 3x3 convolutions: a receptive field of 7x7, so tiles see their borders padded."""
    g = torch.Generator().manual_seed(seed)
    return Sequential(
        Conv2d(3, 8, 3, padding=1, generator=g),
        ReLU(),
        Conv2d(8, 8, 3, padding=1, generator=g),
        ReLU(),
        Conv2d(8, 3, 3, padding=1, generator=g),
        Sigmoid(),
    )


def random_image(h: int, w: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def untiled(model: Sequential, image: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(image).permute(2, 0, 1).float().div(255.0)[None]
    y = model(x)[0].clamp(0, 1).mul(255).round().to(torch.uint8)
    return y.permute(1, 2, 0).numpy()


@pytest.mark.parametrize(
    ("length", "tile", "overlap"), [(10, 16, 4), (16, 16, 4), (17, 16, 4), (100, 32, 8), (97, 24, 12)]
)
def test_tile_starts_cover_with_overlap(length: int, tile: int, overlap: int) -> None:
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    assert starts[-1] + min(tile, length) == length
    for a, b in itertools.pairwise(starts):
        assert a + tile - b >= overlap


def test_one_tile_is_exactly_the_untiled_result() -> None:
    model = small_model()
    image = random_image(37, 53)
    assert np.array_equal(denoise_array(model, image, tile=64, overlap=8), untiled(model, image))


def test_tiles_blend_to_the_untiled_result() -> None:
    model = small_model()
    image = random_image(101, 77)  # not a multiple of the tile, stride or anything
    whole = untiled(model, image).astype(int)
    tiled = denoise_array(model, image, tile=32, overlap=12).astype(int)
    diff = np.abs(tiled - whole)
    assert diff.max() <= 2, diff.max()
    assert diff.mean() < 0.05


def test_batched_tiles_equal_single_tiles() -> None:
    model = small_model()
    image = random_image(70, 90)
    a = denoise_array(model, image, tile=32, overlap=8, batch=1)
    b = denoise_array(model, image, tile=32, overlap=8, batch=5)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_progress_counts_every_tile_and_cancel_stops() -> None:
    model = small_model()
    image = random_image(64, 64)
    seen: list[tuple[int, int]] = []
    denoise_array(model, image, tile=32, overlap=8, progress=lambda d, t: seen.append((d, t)))
    total = len(tile_starts(64, 32, 8)) ** 2
    assert seen == [(i, total) for i in range(1, total + 1)]

    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        denoise_array(model, image, tile=32, overlap=8, cancel=cancel)
    assert len(calls) == 3


def test_model_mode_restored_and_caches_dropped() -> None:
    model = small_model()
    model.train()
    denoise_array(model, random_image(40, 40), tile=32, overlap=8)
    assert model.training
    assert all(getattr(m, "_cols", None) is None for m in model.modules())


def test_float64_model_and_tensor_api() -> None:
    model = small_model().to(dtype=torch.float64)
    x = torch.rand(3, 20, 30)
    y = denoise_tensor(model, x, tile=16, overlap=4)
    assert y.shape == x.shape and y.dtype == torch.float32
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"tile": 4}, "tile"), ({"tile": 32, "overlap": 17}, "overlap"), ({"batch": 0}, "batch")]
)
def test_bad_tiling_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        denoise_array(small_model(), random_image(20, 20), **kwargs)


BAD_IMAGES = [np.zeros((5, 5), np.uint8), np.zeros((5, 5, 3), np.float32), np.zeros((0, 4, 3), np.uint8)]


@pytest.mark.parametrize("bad", BAD_IMAGES)
def test_bad_image_is_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        denoise_array(small_model(), bad)


def test_denoise_file_writes_png_and_never_overwrites(tmp_path) -> None:
    from nnkit.denoise.imageio import read_image, write_image

    model = small_model()
    src = write_image(tmp_path / "photo.jpg", random_image(30, 40))
    out = denoise_file(model, src, tmp_path / "out")
    assert out == tmp_path / "out" / "photo.jpg.denoised.png" == output_path(src, tmp_path / "out")
    assert read_image(out).shape == (30, 40, 3)
    with pytest.raises(FileExistsError, match="already exists"):
        denoise_file(model, src, tmp_path / "out")
    denoise_file(model, src, tmp_path / "out", overwrite=True)

    named = write_image(tmp_path / "x_denoised.png", random_image(12, 12))
    before = named.read_bytes()
    with pytest.raises(FileExistsError, match="input"):
        denoise_file(model, named, tmp_path, overwrite=True, out_path=named)
    assert named.read_bytes() == before


def test_denoiser_from_checkpoint(tmp_path) -> None:
    ckpt_mod = pytest.importorskip("nnkit.denoise.checkpoint")
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.models import build_model

    config = RunConfig(arch="unet", width=4, device="cpu")
    model = build_model(config)
    path = ckpt_mod.save_checkpoint(
        tmp_path / "tiny.safetensors",
        weights=model.state_dict(),
        optimizer_state=None,
        config=config,
        epoch=1,
        step=3,
        best_psnr=21.5,
    )
    den = Denoiser.from_checkpoint(path, device="cpu")
    assert den.checkpoint_path == path
    assert "unet" in den.describe() and "21.50" in den.describe()
    image = random_image(45, 61)
    assert den.corrects_means  # a Gaussian-noise model: the mean correction, with σ estimated
    assert np.array_equal(den.denoise(image), denoise_array(model, image, noise_sigma="estimate"))
    assert np.array_equal(den.denoise(image, sigma=20), denoise_array(model, image, noise_sigma=20.0))
    den.correct_means = False
    assert np.array_equal(den.denoise(image), denoise_array(model, image))
    with pytest.raises(FileNotFoundError, match=r"missing\.safetensors"):
        Denoiser.from_checkpoint(tmp_path / "missing.safetensors")


def identity_model() -> Sequential:
    """A 1×1 convolution by the identity matrix: its output is its input, exactly."""
    conv = Conv2d(3, 3, 1)
    conv.weight.data.copy_(torch.eye(3)[:, :, None, None])
    conv.bias.data.zero_()
    return Sequential(conv)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(1, 70), w=st.integers(1, 70), tile=st.integers(8, 40), overlap_share=st.floats(0, 0.5))
def test_blending_weights_sum_to_one_over_any_grid(h: int, w: int, tile: int, overlap_share: float) -> None:
    """The weights are a product of row and column sums: an identity model gives its input back."""
    x = torch.rand(3, h, w, generator=torch.Generator().manual_seed(h * 100 + w))
    y = denoise_tensor(identity_model(), x, tile=tile, overlap=int(overlap_share * tile), batch=3)
    torch.testing.assert_close(y, x, rtol=0, atol=2e-6)


def test_a_uint8_tensor_gives_what_its_float_values_give() -> None:
    """uint8 is converted a tile at a time, to the same float32 values as the whole photo would be."""
    photo = torch.from_numpy(random_image(45, 61)).permute(2, 0, 1)
    model = small_model()
    from_uint8 = denoise_tensor(model, photo, tile=16, overlap=4)
    assert torch.equal(from_uint8, denoise_tensor(model, photo.float().div(255), tile=16, overlap=4))
