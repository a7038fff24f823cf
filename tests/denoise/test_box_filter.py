"""nnkit.denoise.box_filter: window means with replicated edges, against a direct numpy loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnkit.denoise.box_filter import box_mean


@settings(max_examples=40, deadline=None)
@given(
    planes=st.integers(1, 3), height=st.integers(1, 12), width=st.integers(1, 12), window=st.integers(1, 16),
    seed=st.integers(0, 2**16),
)
def test_box_mean_is_the_mean_over_the_window_with_replicated_edges(
    planes: int, height: int, width: int, window: int, seed: int
) -> None:
    values = torch.rand(planes, height, width, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    before = window // 2
    after = window - 1 - before
    padded = np.pad(values.numpy(), ((0, 0), (before, after), (before, after)), mode="edge")
    expected = np.array(
        [[[padded[c, y : y + window, x : x + window].mean() for x in range(width)] for y in range(height)]
         for c in range(planes)]
    )
    assert np.allclose(box_mean(values, window).numpy(), expected, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(height=st.integers(1, 12), width=st.integers(1, 12), window=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_inside_edges_average_the_part_in_the_image(height: int, width: int, window: int, seed: int) -> None:
    values = torch.rand(height, width, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    a = values.numpy()
    lo = window // 2
    expected = np.array(
        [[a[max(0, y - lo) : y - lo + window, max(0, x - lo) : x - lo + window].mean() for x in range(width)]
         for y in range(height)]
    )
    assert np.allclose(box_mean(values, window, edges="inside").numpy(), expected, atol=1e-12)


def test_a_constant_stays_constant_and_float32_comes_back_as_float64() -> None:
    values = torch.full((2, 3, 40, 30), 0.3, dtype=torch.float32)
    for edges in ("replicate", "inside"):
        out = box_mean(values, 32, edges)
        assert out.dtype == torch.float64 and out.shape == values.shape
        assert torch.allclose(out, torch.full_like(out, float(values[0, 0, 0, 0])), atol=1e-12)


@pytest.mark.parametrize("window", [0, -3, 2.5, True])
def test_bad_windows_are_named(window: object) -> None:
    with pytest.raises(ValueError, match="window"):
        box_mean(torch.zeros(4, 4), window)  # type: ignore[arg-type]


def test_unknown_edges_are_named() -> None:
    with pytest.raises(ValueError, match="edges"):
        box_mean(torch.zeros(4, 4), 3, edges="reflect")
