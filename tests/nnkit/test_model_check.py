"""check_model: one row per layer and one for the input; a single wrong backward is a single red row."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from nnkit import Conv2d, L1Loss, LeakyReLU, ReLU, Residual, Sequential, Sigmoid, SkipConcat, TransposeConv2d
from nnkit.gradcheck import check_model, deliberately_wrong


def model() -> Sequential:
    gen = torch.Generator().manual_seed(0)
    return Sequential(
        Conv2d(3, 4, 3, stride=2, padding=1, generator=gen),
        ReLU(),
        SkipConcat(Sequential(Conv2d(4, 4, 3, padding=1, generator=gen), LeakyReLU(0.1))),
        Residual(Sequential(Conv2d(8, 8, 1, generator=gen), ReLU())),
        TransposeConv2d(8, 3, 3, padding=1, generator=gen),
        Sigmoid(),
    )


X = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
LEAVES = ["0", "1", "2.inner.0", "2.inner.1", "3.inner.0", "3.inner.1", "4", "5"]


def test_a_correct_model_is_all_green_and_its_float32_original_untouched() -> None:
    m = model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    rows = check_model(m, X)
    assert [r.name for r in rows] == ["input", *LEAVES]
    assert all(r.ok for r in rows), rows
    assert max(r.vs_autograd for r in rows) < 1e-13
    assert all(torch.equal(v, before[k]) and v.dtype == torch.float32 for k, v in m.state_dict().items())


@pytest.mark.parametrize("broken", LEAVES)
def test_one_wrong_backward_is_exactly_one_red_row(broken: str) -> None:
    m = model()
    deliberately_wrong(dict(m.named_modules())[broken], 1.01)
    rows = check_model(m, X, target=torch.rand(2, 3, 8, 8), loss=L1Loss())
    assert [r.name for r in rows if not r.ok] == [broken]
    bad = next(r for r in rows if r.name == broken)
    assert 1e-3 < bad.vs_autograd < 0.1 and bad.vs_numeric > 1e-4


class WrongSkip(SkipConcat):
    """A skip connection that forgets the gradient of its pass-through branch."""

    def backward(self, grad_output: Tensor) -> Tensor:
        c = self._split
        assert c is not None
        return self.inner.backward(grad_output[:, c:])


def test_wrong_wiring_shows_in_the_input_row_only() -> None:
    m = model()
    m[2].__class__ = WrongSkip
    rows = check_model(m, X)
    assert [r.name for r in rows if not r.ok] == ["input"]


def test_a_loss_needs_a_target() -> None:
    with pytest.raises(ValueError, match="needs a target"):
        check_model(model(), X, loss=L1Loss())
