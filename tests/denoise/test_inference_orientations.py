"""Test-time averaging over flips and turns: the 8 orientations, undone exactly, averaged as asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnkit.denoise.inference import denoise_array, denoise_tensor, predict_oriented
from nnkit.denoise.tiling import _orient, _unorient
from nnkit.layers import Conv2d


def lopsided_model() -> Conv2d:
    """A 3×3 convolution with random weights: neither flip- nor turn-invariant."""
    conv = Conv2d(3, 3, 3, padding=1)
    gen = torch.Generator().manual_seed(0)
    conv.weight.data.copy_(torch.randn(conv.weight.shape, generator=gen) * 0.2)
    return conv


def test_the_eight_orientations_are_distinct_and_undone() -> None:
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5)
    seen = []
    for index in range(8):
        y = _orient(x, index)
        assert torch.equal(_unorient(y, index), x)
        seen.append(y.flatten().tolist() + list(y.shape))
    assert len({tuple(s) for s in seen}) == 8


@pytest.mark.parametrize("count", [2, 4, 8])
def test_average_is_the_mean_of_the_oriented_outputs(count: int) -> None:
    model = lopsided_model()
    x = torch.rand(1, 3, 9, 7, generator=torch.Generator().manual_seed(1))
    expected = sum(_unorient(model.forward(_orient(x, i).contiguous()), i) for i in range(count)) / count
    got = predict_oriented(model, x, count)
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, model.forward(x))  # the averaging changed something: the model is lopsided
    assert torch.equal(predict_oriented(model, x, 1), model.forward(x))


def test_tiled_averaging_and_bad_counts() -> None:
    model = lopsided_model()
    image = torch.rand(3, 40, 33, generator=torch.Generator().manual_seed(2))
    whole = denoise_tensor(model, image, tile=64, orientations=8)
    tiled = denoise_tensor(model, image, tile=16, overlap=4, orientations=8)
    assert whole.shape == tiled.shape == image.shape
    assert float((whole - tiled).abs().max()) < 0.05  # blending seams stay small
    photo = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    assert denoise_array(model, photo, orientations=4).shape == photo.shape
    with pytest.raises(ValueError, match="orientations"):
        denoise_tensor(model, image, orientations=3)
