"""ProgressiveResult: tiled inference's tile callback fills a preview canvas, with an ETA."""

from __future__ import annotations

import math

import numpy as np
import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.inference import denoise_array
from nnkit.denoise.inference_preview import ProgressiveResult
from nnkit.denoise.models import build_model


def noisy_photo(shape: tuple[int, int], sigma: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    return np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).astype(np.uint8)


def test_tiles_are_reported_as_they_are_computed_and_cover_the_image() -> None:
    torch.manual_seed(0)
    model = build_model(RunConfig(arch="report", width=4))
    image = noisy_photo((70, 150))
    progressive = ProgressiveResult(image)
    covered = np.zeros(image.shape[:2], bool)
    calls: list[tuple[int, int]] = []

    def on_tile(top: int, left: int, tile: torch.Tensor) -> None:
        calls.append((top, left))
        covered[top : top + tile.shape[1], left : left + tile.shape[2]] = True
        progressive.paste(top, left, tile)

    result = denoise_array(model, image, tile=64, overlap=16, on_tile=on_tile, progress=progressive.progress)
    assert len(calls) == progressive.total == progressive.done > 1 and covered.all()
    assert progressive.eta_s() == 0.0
    assert not np.array_equal(progressive.canvas, image)
    one_tile = ProgressiveResult(image[:60, :60])
    whole = denoise_array(model, image[:60, :60], tile=64, on_tile=one_tile.paste)
    assert np.array_equal(one_tile.canvas, whole)  # a single tile is the final result itself
    assert result.shape == image.shape and math.isnan(ProgressiveResult(image).eta_s())
