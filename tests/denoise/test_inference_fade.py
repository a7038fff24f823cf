"""The clean-photo fade: the result fades out towards the input as the noise level falls (issue 21 item 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnkit.denoise.inference import FADE_SIGMA0, FADE_WIDTH, Denoiser, denoise_array, fade_strength
from nnkit.layers import Conv2d, Sequential


def blurring_model() -> Sequential:
    """A 3×3 box blur of each channel: it changes every textured photo, noisy or not."""
    conv = Conv2d(3, 3, 3, padding=1)
    weight = torch.zeros(3, 3, 3, 3)
    for c in range(3):
        weight[c, c] = 1.0 / 9.0
    conv.weight.data.copy_(weight)
    assert conv.bias is not None
    conv.bias.data.zero_()
    return Sequential(conv)


def texture(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(60, 200, size=(40, 48, 3), dtype=np.uint8)


@given(st.floats(0.0, 255.0, allow_nan=False))
def test_fade_strength_is_a_ramp_from_zero_to_one(sigma: float) -> None:
    s = fade_strength(sigma)
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(min(max((sigma - FADE_SIGMA0) / FADE_WIDTH, 0.0), 1.0))
    assert fade_strength(sigma + 0.5) >= s  # never less of the result for more noise


def test_a_photo_said_to_be_clean_comes_back_as_it_went_in() -> None:
    model, image = blurring_model(), texture()
    out = denoise_array(model, image, noise_sigma=0.0, fade_clean=True)
    assert np.array_equal(out, image)
    full = denoise_array(model, image, noise_sigma=0.0)  # off by default
    assert not np.array_equal(full, image)


def test_noisy_photos_get_the_full_result_and_between_a_blend() -> None:
    model, image = blurring_model(), texture(1)
    high = FADE_SIGMA0 + FADE_WIDTH + 1.0
    assert np.array_equal(
        denoise_array(model, image, noise_sigma=high, fade_clean=True), denoise_array(model, image, noise_sigma=high)
    )
    middle = FADE_SIGMA0 + FADE_WIDTH / 2
    half = denoise_array(model, image, noise_sigma=middle, fade_clean=True).astype(float)
    full = denoise_array(model, image, noise_sigma=middle, fade_clean=False).astype(float)
    # half of the change, up to the rounding to 8 bits of each
    assert np.abs(half - (image + 0.5 * (full - image))).max() <= 1.0


def test_the_fade_multiplies_the_users_strength() -> None:
    model, image = blurring_model(), texture(2)
    sigma = FADE_SIGMA0 + FADE_WIDTH / 4
    faded = denoise_array(model, image, noise_sigma=sigma, strength=0.5, fade_clean=True).astype(float)
    full = denoise_array(model, image, noise_sigma=sigma, fade_clean=False).astype(float)
    assert np.abs(faded - (image + 0.125 * (full - image))).max() <= 1.0


def test_denoiser_fades_by_default_and_not_when_told(tmp_path: Path) -> None:
    """On by default since the fade over σ̂ 0-1 costs no measured noise anything (docs/quality.md section 3)."""
    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.models import build_model

    config = RunConfig(arch="unet", width=4, device="cpu")
    model = build_model(config)
    path = save_checkpoint(tmp_path / "tiny.safetensors", weights=model.state_dict(), optimizer_state=None,
                           config=config, epoch=1, step=1, best_psnr=20.0)
    den = Denoiser.from_checkpoint(path, device="cpu")
    image = texture(3)
    assert den.fade_clean
    assert np.array_equal(den.denoise(image, sigma=0.0), image)
    den.fade_clean = False
    assert np.array_equal(den.denoise(image, sigma=0.0), denoise_array(den.model, image, noise_sigma=0.0))


def test_denoise_cli_fades_a_clean_photo_unless_told_no_fade(tmp_path: Path) -> None:
    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.cli import denoise_main
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.imageio import read_image, write_image
    from nnkit.denoise.models import build_model

    config = RunConfig(arch="report", width=4, device="cpu")  # random weights: the output differs from the input
    ckpt = save_checkpoint(tmp_path / "r.safetensors", weights=build_model(config).state_dict(), optimizer_state=None,
                           config=config, epoch=1, step=1, best_psnr=20.0)
    image = texture(4)
    source = write_image(tmp_path / "clean.png", image)
    args = [str(source), "-o", str(tmp_path / "out"), "--checkpoint", str(ckpt), "--sigma", "0", "--quiet"]
    assert denoise_main(args) == 0
    assert np.array_equal(read_image(tmp_path / "out" / "clean.png.denoised.png"), image)
    assert denoise_main([*args, "--no-fade", "--overwrite"]) == 0
    assert not np.array_equal(read_image(tmp_path / "out" / "clean.png.denoised.png"), image)
