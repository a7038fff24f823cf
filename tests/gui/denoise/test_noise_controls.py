"""The quality work in the Denoise view: the engine's noise-level estimate and a strength control."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from denoise_gui.denoise.noise_controls import engine_estimates_sigma, engine_has_strength
from denoise_gui.main_window import MainWindow
from nnkit.denoise.imageio import write_image
from tests.gui.conftest import TINY


def noisy_gradient(tmp_path: Path, sigma: float = 25.0) -> Path:
    rng = np.random.default_rng(3)
    clean = np.linspace(40, 215, 96)[None, :, None] * np.ones((80, 96, 3))
    return write_image(tmp_path / "gradient.png", np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255)
                       .astype(np.uint8))


def denoised_gradient(qtbot: Any, window: MainWindow, tmp_path: Path) -> tuple[MainWindow, Path]:
    """``window`` after it has denoised a noisy gradient photo (the photo's path)."""
    photo = noisy_gradient(tmp_path)
    with qtbot.waitSignal(window.denoise_view.sigBatchFinished, timeout=20_000):
        window.open_paths([str(photo)])
    return window, photo


@pytest.mark.skipif(not engine_estimates_sigma(), reason="the engine has no noise estimator")
def test_the_noise_level_is_estimated_and_shown(qtbot: Any, make_window: Callable[..., MainWindow],
                                                 tiny_checkpoint: Path, tmp_path: Path) -> None:
    window, photo = denoised_gradient(qtbot, make_window(checkpoint=tiny_checkpoint), tmp_path)
    view = window.denoise_view
    assert view.items[str(photo)].sigma == pytest.approx(25.0, abs=4.0)
    assert "Noise σ ≈ 2" in view.noise.sigma_label.text() and "trained at 25" in view.noise.sigma_label.text()


@pytest.mark.skipif(not engine_has_strength(), reason="the engine has no strength")
def test_strength_offers_a_new_result_and_keeps_the_first(qtbot: Any, make_window: Callable[..., MainWindow],
                                                          tiny_checkpoint: Path, tmp_path: Path) -> None:
    window, photo = denoised_gradient(qtbot, make_window(checkpoint=tiny_checkpoint), tmp_path)
    view = window.denoise_view
    view.noise.set_strength(0.5)
    assert view.rerun_bar.isVisibleTo(window) and "strength is now 50%" in view.rerun_label.text()
    with qtbot.waitSignal(view.sigBatchFinished, timeout=20_000):
        view.rerun_button.click()
    item = view.items[str(photo)]
    full, half = (r.image.astype(float) for r in item.results)
    assert item.results[1].model.endswith("· strength 50%") and not item.results[0].model.endswith("%")
    assert item.original is not None
    original = item.original.astype(float)
    assert np.abs(half - original).mean() == pytest.approx(np.abs(full - original).mean() / 2, rel=0.1)


def untrained_checkpoint(path: Path, config: Any) -> Path:
    """A checkpoint of ``config``'s network with its initial weights, saved at ``path``."""
    from nnkit.denoise.checkpoint import save_checkpoint
    from nnkit.denoise.models import build_model

    return save_checkpoint(
        path, weights=build_model(config).state_dict(), optimizer_state=None,
        config=config, epoch=1, step=1, best_psnr=20.0,
    )


@pytest.mark.skipif(not engine_estimates_sigma(), reason="the engine has no noise estimator")
def test_a_blind_model_shows_the_range_it_was_trained_on(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    blind = untrained_checkpoint(tmp_path / "blind.safetensors", TINY.replace(noise_level=0.0, noise_level_max=50.0))
    window, _ = denoised_gradient(qtbot, make_window(checkpoint=blind), tmp_path)
    view = window.denoise_view
    assert "(model trained at 0–50)" in view.noise.sigma_label.text()


@pytest.mark.skipif(not engine_estimates_sigma(), reason="the engine has no noise estimator")
def test_a_model_with_a_camera_noise_share_says_so(
    qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    config = TINY.replace(noise_level=0.0, noise_level_max=50.0, camera_mix=0.3)
    mixed = untrained_checkpoint(tmp_path / "mixed.safetensors", config)
    window, _ = denoised_gradient(qtbot, make_window(checkpoint=mixed), tmp_path)
    view = window.denoise_view
    assert "(model trained at 0–50 and on camera noise)" in view.noise.sigma_label.text()
    assert "camera noise" in view.model_label.toolTip()


def test_a_gaussian_model_denoises_with_the_mean_correction_as_the_command_does(
    qtbot: Any, make_window: Callable[..., MainWindow], tiny_checkpoint: Path, tmp_path: Path
) -> None:
    from nnkit.denoise.imageio import read_image
    from nnkit.denoise.inference import Denoiser

    window, photo = denoised_gradient(qtbot, make_window(checkpoint=tiny_checkpoint), tmp_path)
    view = window.denoise_view
    shown = view.items[str(photo)].results[0].image
    den = Denoiser.from_checkpoint(tiny_checkpoint, device="cpu")
    assert den.corrects_means and np.array_equal(shown, den.denoise(read_image(photo)))
    den.correct_means = False
    assert not np.array_equal(shown, den.denoise(read_image(photo)))  # the correction changed something
