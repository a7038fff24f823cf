"""denoiser_scores: fixed seeded noise on the full validation photos, PSNR per photo and the mean."""

from __future__ import annotations

import numpy as np

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import VAL_PHOTOS
from nnkit.denoise.models import build_model
from nnkit.denoise.quality.denoiser_scores import (
    evaluate_arrays,
    evaluate_model,
    evaluate_noisy,
    noisy_photos,
)
from nnkit.denoise.quality.photo_compare import psnr_db


def test_noise_is_fixed_and_quantised() -> None:
    a, b = noisy_photos(), noisy_photos()
    assert [p.name for p in a] == list(VAL_PHOTOS)
    for p, q in zip(a, b, strict=True):
        assert p.noisy.dtype == np.uint8 and p.noisy.shape == p.clean.shape
        assert np.array_equal(p.noisy, q.noisy)
    assert not np.array_equal(a[0].noisy, noisy_photos(seed=1)[0].noisy)
    scores = evaluate_noisy(a)
    assert 19.5 < scores["mean"] < 21.5  # sigma 25, clipped to [0, 255]
    assert scores["mean"] == sum(scores[n] for n in VAL_PHOTOS) / len(VAL_PHOTOS)


def test_clean_scores_the_cap_and_models_are_scored() -> None:
    photos = noisy_photos()
    assert psnr_db(photos[0].clean, photos[0].clean) == 100.0
    assert evaluate_arrays(lambda a: a, photos) == evaluate_noisy(photos)
    model = build_model(RunConfig(arch="unet", width=4, device="cpu"))  # starts as the identity
    scores = evaluate_model(model, tile=128, overlap=16)
    assert set(scores) == {*VAL_PHOTOS, "mean"}
    assert abs(scores["mean"] - evaluate_noisy(photos)["mean"]) < 0.5
