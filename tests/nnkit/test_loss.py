"""MSELoss and L1Loss against torch autograd; errors name the loss and the shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnkit import L1Loss, MSELoss, ShapeError
from nnkit.gradcheck import gradcheck_loss
from nnkit.loss import Loss
from tests.nnkit.parity import TOLERANCE, rel_err
from tests.strategies import image_shapes, seeds

LOSSES = [(MSELoss, F.mse_loss), (L1Loss, F.l1_loss)]


@pytest.mark.parametrize(("make", "reference"), LOSSES, ids=["mse", "l1"])
@given(shape=image_shapes(), seed=seeds, dtype=st.sampled_from([torch.float64, torch.float32]))
def test_matches_torch(
    make: Callable[[], Loss],
    reference: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    shape: tuple[int, ...],
    seed: int,
    dtype: torch.dtype,
) -> None:
    gen = torch.Generator().manual_seed(seed)
    pred = torch.randn(shape, generator=gen, dtype=dtype)
    target = torch.randn(shape, generator=gen, dtype=dtype)
    target.view(-1)[::4] = pred.view(-1)[::4]  # exact ties: L1's subgradient 0
    pt = pred.clone().requires_grad_()
    expected = reference(pt, target)
    expected.backward()
    loss: Loss = make()
    value = loss.forward(pred, target)
    assert value.dim() == 0 and value.dtype == dtype
    assert rel_err(value, expected.detach()) <= TOLERANCE[dtype]
    assert rel_err(loss.backward(), pt.grad) <= TOLERANCE[dtype]  # type: ignore[arg-type]


def test_mse_gradient_is_2_diff_over_n() -> None:
    pred, target = torch.tensor([[1.0, 2.0], [3.0, 5.0]]), torch.zeros(2, 2)
    loss = MSELoss()
    assert float(loss(pred, target)) == pytest.approx((1 + 4 + 9 + 25) / 4)
    assert torch.equal(loss.backward(), 2 * pred / 4)


@pytest.mark.parametrize("make", [MSELoss, L1Loss])
def test_gradcheck(make: type[Loss]) -> None:
    gen = torch.Generator().manual_seed(0)
    pred = torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64)
    gap = 0.1 + torch.rand(2, 3, 4, 5, generator=gen, dtype=torch.float64)  # away from L1's kink
    target = pred + gap * torch.randn(2, 3, 4, 5, generator=gen, dtype=torch.float64).sign()
    assert gradcheck_loss(make(), pred, target) < 1e-7


@pytest.mark.parametrize("make", [MSELoss, L1Loss])
def test_errors(make: type[Loss]) -> None:
    name = make.__name__
    with pytest.raises(ShapeError, match=rf"{name}.*\(2, 3, 4, 4\).*\(2, 3, 4, 5\)"):
        make()(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=f"{name}.*before forward"):
        make().backward()
    assert repr(make()) == f"{name}()"
