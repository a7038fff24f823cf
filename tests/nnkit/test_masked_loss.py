"""MaskedMSELoss and MaskedL1Loss against torch autograd on the masked elements; nothing leaks off the mask."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from nnkit import MaskedL1Loss, MaskedMSELoss, ShapeError
from nnkit.loss import MaskedLoss
from tests.nnkit.parity import TOLERANCE, rel_err
from tests.strategies import image_shapes, seeds

KINDS = {"mse": MaskedMSELoss, "l1": MaskedL1Loss}


def autograd_reference(kind: str, pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """torch's own loss on the masked elements only (boolean indexing), differentiated by autograd."""
    chosen = mask.expand_as(pred)
    p, t = pred[chosen], target[chosen]
    return torch.nn.functional.mse_loss(p, t) if kind == "mse" else torch.nn.functional.l1_loss(p, t)


@pytest.mark.parametrize("kind", list(KINDS))
@given(
    shape=image_shapes(),
    seed=seeds,
    dtype=st.sampled_from([torch.float64, torch.float32]),
    per_pixel=st.booleans(),
    fraction=st.sampled_from([0.05, 0.3, 0.9]),
)
def test_matches_autograd_on_the_masked_elements(
    kind: str, shape: tuple[int, ...], seed: int, dtype: torch.dtype, per_pixel: bool, fraction: float
) -> None:
    gen = torch.Generator().manual_seed(seed)
    pred = torch.randn(shape, generator=gen, dtype=dtype)
    target = torch.randn(shape, generator=gen, dtype=dtype)
    mask_shape = (shape[0], 1, *shape[2:]) if per_pixel else shape
    mask = torch.rand(mask_shape, generator=gen) < fraction
    mask.view(-1)[0] = True  # at least one scored element
    pt = pred.clone().requires_grad_()
    expected = autograd_reference(kind, pt, target, mask)
    expected.backward()
    loss: MaskedLoss = KINDS[kind]()
    value = loss.forward(pred, target, mask)
    assert value.dim() == 0 and value.dtype == dtype
    assert rel_err(value, expected.detach()) <= TOLERANCE[dtype]
    grad = loss.backward()
    assert rel_err(grad, pt.grad) <= TOLERANCE[dtype]  # type: ignore[arg-type]
    assert torch.count_nonzero(grad[~mask.expand_as(pred)]) == 0  # no gradient leaks off the mask


@pytest.mark.parametrize("kind", list(KINDS))
def test_unmasked_values_change_nothing(kind: str) -> None:
    gen = torch.Generator().manual_seed(1)
    pred, target = torch.randn(2, 3, 6, 7, generator=gen, dtype=torch.float64), torch.rand(2, 3, 6, 7, generator=gen)
    mask = torch.rand(2, 1, 6, 7, generator=gen) < 0.2
    loss = KINDS[kind]()
    before = loss.forward(pred, target.double(), mask)
    grad_before = loss.backward()
    wild = torch.where(mask, pred, torch.full_like(pred, 1e6))  # anything off the mask
    after = loss.forward(wild, target.double(), mask)
    assert float(after) == float(before) and torch.equal(loss.backward(), grad_before)


def test_float_mask_equals_bool_mask_and_empty_mask_is_zero() -> None:
    gen = torch.Generator().manual_seed(2)
    pred, target = torch.randn(1, 3, 4, 4, generator=gen), torch.randn(1, 3, 4, 4, generator=gen)
    mask = torch.rand(1, 1, 4, 4, generator=gen) < 0.5
    a, b = MaskedMSELoss(), MaskedMSELoss()
    assert float(a(pred, target, mask)) == float(b(pred, target, mask.float()))
    assert torch.equal(a.backward(), b.backward())
    empty = MaskedL1Loss()
    assert float(empty(pred, target, torch.zeros(1, 1, 4, 4, dtype=torch.bool))) == 0.0
    assert torch.count_nonzero(empty.backward()) == 0


def test_errors_name_the_loss_and_shapes() -> None:
    with pytest.raises(ShapeError, match=r"MaskedMSELoss.*\(1, 3, 4, 4\).*\(1, 3, 4, 5\)"):
        MaskedMSELoss()(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 5), torch.ones(1, 1, 4, 4))
    with pytest.raises(ShapeError, match=r"MaskedL1Loss: mask shape \(1, 1, 3, 3\)"):
        MaskedL1Loss()(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 4, 4), torch.ones(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match=r"MaskedMSELoss.*before forward"):
        MaskedMSELoss().backward()
    assert repr(MaskedL1Loss()) == "MaskedL1Loss()"
