"""nnkit.graph: the CUDA-graph training step (eager on the CPU; the capture itself needs a GPU)."""

from __future__ import annotations

import pytest
import torch

from nnkit.graph import GraphedStep, GraphedTrainStep
from nnkit.init import initialise
from nnkit.layers import Conv2d, ReLU, Sequential, Sigmoid, TransposeConv2d
from nnkit.loss import MSELoss
from nnkit.module import Module
from nnkit.optim import SGD, Adam


def _net(device: str = "cpu") -> Module:
    model = Sequential(
        Conv2d(3, 8, 3, stride=2, padding=1),
        ReLU(),
        TransposeConv2d(8, 3, 3, scale_factor=2, padding=1),
        Sigmoid(),
    )
    initialise(model, "he", torch.Generator().manual_seed(0))
    return model.to(device=device)


def _batches(n: int, device: str = "cpu") -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(3)
    return [
        (torch.rand(4, 3, 16, 16, generator=g).to(device), torch.rand(4, 3, 16, 16, generator=g).to(device))
        for _ in range(n)
    ]


def _eager_losses(model: Module, opt_cls: type, batches: list, **kw: object) -> list[float]:
    loss = MSELoss()
    opt = opt_cls(model.parameters(), **kw)
    out = []
    for x, y in batches:
        opt.zero_grad()
        value = loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
        out.append(float(value))
    return out


def test_cpu_runs_eagerly_with_the_same_numbers() -> None:
    batches = _batches(5)
    expected = _eager_losses(_net(), Adam, batches, lr=1e-2)
    model = _net()
    step = GraphedTrainStep(model, MSELoss(), Adam(model.parameters(), lr=1e-2), *batches[0])
    assert not step.enabled
    assert [float(step(x, y)) for x, y in batches] == expected


def test_shape_change_is_refused() -> None:
    model = _net()
    x, y = _batches(1)[0]
    step = GraphedTrainStep(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y)
    with pytest.raises(ValueError, match="differ from the captured"):
        step(x[:2], y[:2])


def test_capture_on_cpu_is_refused() -> None:
    model = _net()
    x, y = _batches(1)[0]
    with pytest.raises(ValueError, match="CUDA"):
        GraphedTrainStep(model, MSELoss(), SGD(model.parameters(), lr=0.1), x, y, enabled=True)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            GraphedStep(lambda: torch.zeros(()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graph_matches_eager() -> None:
    batches = _batches(8, "cuda")
    expected = _eager_losses(_net("cuda"), Adam, batches, lr=1e-2, capturable=True)
    model = _net("cuda")
    step = GraphedTrainStep(model, MSELoss(), Adam(model.parameters(), lr=1e-2, capturable=True), *batches[0])
    assert step.enabled
    got = [float(step(x, y)) for x, y in batches]
    torch.testing.assert_close(torch.tensor(got), torch.tensor(expected), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="capturable"):
        GraphedTrainStep(model, MSELoss(), Adam(model.parameters()), *batches[0])
