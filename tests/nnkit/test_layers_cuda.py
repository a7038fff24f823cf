"""The same equality checks on CUDA (skipped without a GPU), and no hidden host-device syncs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from nnkit import Module, MSELoss
from nnkit.reference import to_torch
from tests.nnkit.layer_zoo import INPUT_SHAPE, LAYERS
from tests.nnkit.parity import rel_err

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
params = pytest.mark.parametrize("make", list(LAYERS.values()), ids=list(LAYERS))


@pytest.fixture(autouse=True)
def no_tf32() -> Iterator[None]:
    """cuDNN's default TF32 convolutions would make the float32 twin, not nnkit, inexact."""
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


def run(layer: Module, x: torch.Tensor, g: torch.Tensor) -> list[torch.Tensor]:
    layer.zero_grad()
    y = layer.forward(x)
    return [y, layer.backward(g), *(p.grad for p in layer.parameters())]


@params
@pytest.mark.parametrize(("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 2e-5)])
def test_cuda_equals_twin_and_cpu(make: Callable[[], Module], dtype: torch.dtype, tol: float) -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(INPUT_SHAPE, generator=gen, dtype=dtype)
    layer = make().to(dtype=dtype)
    g = torch.randn(layer.forward(x).shape, generator=gen, dtype=dtype)
    on_cpu = run(layer, x, g)
    layer.to(device="cuda")
    on_gpu = run(layer, x.cuda(), g.cuda())
    assert all(t.device.type == "cuda" for t in on_gpu)
    for a, b in zip(on_gpu, on_cpu, strict=True):
        assert rel_err(a.cpu(), b) < tol
    twin = to_torch(layer)
    xt = x.cuda().requires_grad_()
    expected = twin(xt)
    expected.backward(g.cuda())
    assert rel_err(on_gpu[0], expected.detach()) < tol
    assert rel_err(on_gpu[1], xt.grad) < tol  # type: ignore[arg-type]
    for p, tp in zip(layer.parameters(), twin.parameters(), strict=True):
        assert rel_err(p.grad, tp.grad) < tol  # type: ignore[arg-type]


@params
def test_no_host_device_sync(make: Callable[[], Module]) -> None:
    layer = make().to(device="cuda")
    x = torch.randn(INPUT_SHAPE, device="cuda")
    loss_fn = MSELoss()
    y = layer.forward(x)
    target = torch.zeros_like(y)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(2):
            layer.zero_grad()
            loss_fn.forward(layer.forward(x), target)
            layer.backward(loss_fn.backward())
    finally:
        torch.cuda.set_sync_debug_mode(0)
