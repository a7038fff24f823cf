"""nnkit.optim against torch.optim: same gradients in, same parameter trajectories out (float64)."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch

from nnkit.module import Parameter
from nnkit.optim import SGD, Adam, Optimizer

SHAPES = [(4, 3, 3, 3), (4,), (2, 5)]
STEPS = 50


def _make_params(seed: int = 0) -> tuple[list[Parameter], list[torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    datas = [torch.randn(s, generator=g, dtype=torch.float64) for s in SHAPES]
    ours = [Parameter(d.clone()) for d in datas]
    theirs = [d.clone().requires_grad_(True) for d in datas]
    return ours, theirs


def _gradients(step: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1000 + step)
    return [torch.randn(s, generator=g, dtype=torch.float64) for s in SHAPES]


def _run(
    ours: list[Parameter], theirs: list[torch.Tensor], opt: Optimizer, ref: torch.optim.Optimizer, steps: range
) -> None:
    for step in steps:
        grads = _gradients(step)
        opt.zero_grad()
        ref.zero_grad()
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad.add_(g)
            t.grad = g.clone()
        opt.step()
        ref.step()
        for k, (p, t) in enumerate(zip(ours, theirs, strict=True)):
            torch.testing.assert_close(
                p.data,
                t.detach(),
                rtol=1e-13,
                atol=1e-14,
                msg=lambda m, k=k, step=step: f"param {k} at step {step}: {m}",
            )


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w)
    for m, d, n, w in itertools.product([0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 1e-2])
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_sgd_matches_torch(options: dict) -> None:
    ours, theirs = _make_params()
    opt = SGD(ours, lr=0.05, **options)
    ref = torch.optim.SGD(theirs, lr=0.05, foreach=False, **options)
    _run(ours, theirs, opt, ref, range(STEPS))


ADAM_OPTIONS = [
    dict(),
    dict(weight_decay=1e-2),
    dict(betas=(0.5, 0.9), eps=1e-6),
    dict(betas=(0.0, 0.0)),
]


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_matches_torch(options: dict, foreach: bool) -> None:
    ours, theirs = _make_params()
    opt = Adam(ours, lr=1e-2, foreach=foreach, **options)
    ref = torch.optim.Adam(theirs, lr=1e-2, foreach=False, **options)
    _run(ours, theirs, opt, ref, range(STEPS))


def test_adam_capturable_close_to_torch() -> None:
    """The tensor-step (CUDA-graph) formula is algebraically the same update."""
    ours, theirs = _make_params()
    opt = Adam(ours, lr=1e-2, weight_decay=1e-3, capturable=True)
    ref = torch.optim.Adam(theirs, lr=1e-2, weight_decay=1e-3, foreach=False)
    for step in range(STEPS):
        for p, t, g in zip(ours, theirs, _gradients(step), strict=True):
            p.grad.copy_(g)
            t.grad = g.clone()
        opt.step()
        ref.step()
    for p, t in zip(ours, theirs, strict=True):
        torch.testing.assert_close(p.data, t.detach(), rtol=1e-10, atol=1e-12)
    assert isinstance(opt.state[0]["step"], torch.Tensor) and float(opt.state[0]["step"]) == STEPS


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: Adam(ps, lr=1e-2, weight_decay=1e-3),
        lambda ps: Adam(ps, lr=1e-2, capturable=True),
        lambda ps: Adam(ps, lr=1e-2, weight_decay=1e-3, foreach=True),
    ],
    ids=["sgd", "adam", "adam-capturable", "adam-foreach"],
)
def test_state_dict_round_trip_resumes_identically(make) -> None:
    straight, _ = _make_params()
    opt = make(straight)
    for step in range(20):
        for p, g in zip(straight, _gradients(step), strict=True):
            p.grad.copy_(g)
        opt.step()

    resumed, _ = _make_params()
    first = make(resumed)
    for step in range(10):
        for p, g in zip(resumed, _gradients(step), strict=True):
            p.grad.copy_(g)
        first.step()
    saved = copy.deepcopy(first.state_dict())
    for v in saved["state"].values():  # only tensors and plain numbers: fits a safetensors checkpoint
        assert all(isinstance(t, torch.Tensor) for t in v.values())
    assert all(isinstance(x, (int, float, bool, tuple, list)) for x in saved["param_groups"][0].values())

    weights = [p.data.clone() for p in resumed]
    again = [Parameter(w) for w in weights]
    second = make(again)
    second.load_state_dict(saved)
    for step in range(10, 20):
        for p, g in zip(again, _gradients(step), strict=True):
            p.grad.copy_(g)
        second.step()
    for a, b in zip(straight, again, strict=True):
        assert torch.equal(a.data, b.data)


def test_load_torch_adam_state_dict() -> None:
    """A torch.optim.Adam state dict has the same layout and loads into nnkit's Adam."""
    ours, theirs = _make_params()
    ref = torch.optim.Adam(theirs, lr=1e-2, foreach=False)
    for step in range(5):
        for t, g in zip(theirs, _gradients(step), strict=True):
            t.grad = g.clone()
        ref.step()
    for p, t in zip(ours, theirs, strict=True):
        p.data.copy_(t.detach())
    opt = Adam(ours, lr=0.5)
    opt.load_state_dict(ref.state_dict())
    assert opt.lr == 1e-2
    _run(ours, theirs, opt, ref, range(5, 15))


def test_load_state_dict_rejects_mismatch() -> None:
    ours, _ = _make_params()
    opt = Adam(ours)
    for p in ours:
        p.grad.fill_(1.0)
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match="3 parameters"):
        Adam(ours[:2]).load_state_dict(state)
    bad = copy.deepcopy(state)
    bad["state"][0]["exp_avg"] = torch.zeros(7)
    with pytest.raises(ValueError, match=r"state\[0\]\['exp_avg'\]"):
        Adam(ours).load_state_dict(bad)
    bad = copy.deepcopy(state)
    bad["param_groups"][0]["betas"] = (1.0, 0.9)
    with pytest.raises(ValueError, match="betas"):
        Adam(ours).load_state_dict(bad)


def test_zero_grad_in_place() -> None:
    ours, _ = _make_params()
    grads = [p.grad for p in ours]
    for p in ours:
        p.grad.fill_(3.0)
    SGD(ours, lr=1.0).zero_grad()
    assert all(p.grad is g and not g.any() for p, g in zip(ours, grads, strict=True))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda ps: SGD(ps, lr=-1.0), "lr"),
        (lambda ps: SGD(ps, lr=0.0), "lr"),
        (lambda ps: SGD(ps, lr=float("nan")), "lr"),
        (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "momentum"),
        (lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0), "weight_decay"),
        (lambda ps: SGD(ps, lr=0.1, dampening=-1.0), "dampening"),
        (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov"),
        (lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "nesterov"),
        (lambda ps: Adam(ps, lr=-1e-3), "lr"),
        (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"betas\[0\]"),
        (lambda ps: Adam(ps, betas=(0.9, -0.1)), r"betas\[1\]"),
        (lambda ps: Adam(ps, betas=(0.9,)), "betas"),
        (lambda ps: Adam(ps, eps=0.0), "eps"),
        (lambda ps: Adam(ps, weight_decay=-0.1), "weight_decay"),
        (lambda ps: Adam([]), "empty"),
        (lambda ps: SGD([], lr=0.1), "empty"),
    ],
)
def test_nonsense_hyperparameters_raise(make, match: str) -> None:
    ours, _ = _make_params()
    with pytest.raises(ValueError, match=match):
        make(ours)


def test_non_parameter_rejected() -> None:
    with pytest.raises(TypeError, match="Parameter"):
        SGD([torch.zeros(3)], lr=0.1)  # type: ignore[list-item]


def test_float32_updates_stay_float32_and_in_place() -> None:
    p = Parameter(torch.ones(3, dtype=torch.float32))
    storage, grad = p.data_ptr(), p.grad
    opt = Adam([p], lr=0.1)
    p.grad.fill_(1.0)
    opt.step()
    assert p.data_ptr() == storage and p.grad is grad and p.dtype == torch.float32
    assert "Adam(1 parameters" in repr(opt)
