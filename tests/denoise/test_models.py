"""The denoising networks: shapes for any H x W, hand backward against the torch.nn twin, initialisation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nnkit.denoise.config import RunConfig
from nnkit.denoise.engines.twin import twin_of
from nnkit.denoise.models import (
    PadToMultiple,
    build_architecture,
    build_model,
    reflect_index,
    report_net,
    report_net_as_written,
    unet,
)
from nnkit.layers import Conv2d

SIZES = [(32, 32), (16, 24), (37, 45), (5, 3), (1, 1), (2, 7)]


@pytest.mark.parametrize("arch", ["report", "unet"])
@pytest.mark.parametrize("size", SIZES)
def test_any_size_in_gives_same_size_out(arch: str, size: tuple[int, int]) -> None:
    model = build_model(RunConfig(arch=arch, width=4))
    x = torch.rand(2, 3, *size)
    y = model(x)
    assert y.shape == x.shape
    assert model.backward(torch.ones_like(y)).shape == x.shape


def test_report_net_layout_and_range() -> None:
    model = report_net(8)
    convs = [m for m in model.modules() if isinstance(m, Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3, 8), (8, 8), (8, 8), (8, 3)]
    y = model(torch.rand(3, 3, 32, 32))
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0


def test_report_net_as_written_computes_report_net() -> None:
    """NearestUpsampling + Conv2d (the report's spelling) gives TransposeConv2d's numbers, both ways."""
    ours, written = report_net(6).to(dtype=torch.float64), report_net_as_written(6).to(dtype=torch.float64)
    renamed = {"inner.4.": "inner.5.", "inner.6.": "inner.8."}  # each upsampling takes an index of its own
    state = {renamed.get(k[:8], k[:8]) + k[8:]: v for k, v in ours.state_dict().items()}
    written.load_state_dict(state)
    x = torch.rand(2, 3, 13, 10, dtype=torch.float64)
    g = torch.rand(2, 3, 13, 10, dtype=torch.float64)
    assert torch.allclose(ours(x), written(x), rtol=1e-13, atol=1e-14)
    assert torch.allclose(ours.backward(g), written.backward(g), rtol=1e-13, atol=1e-14)
    for name, p in written.named_parameters():
        assert p.shape == state[name].shape and p.grad.abs().sum() > 0


def test_unet_widths() -> None:
    channels = {c.out_channels for c in unet(8).modules() if isinstance(c, Conv2d)}
    assert {8, 16, 32, 3} == channels


@pytest.mark.parametrize("size", [(13, 22), (1, 1), (3, 9), (16, 16)])
def test_reflect_index_matches_reflect_pad(size: tuple[int, int]) -> None:
    h, w = size
    x = torch.rand(1, 1, h, w)
    rows, cols = reflect_index(h, h + 3, x.device), reflect_index(w, w + 2, x.device)
    padded = x.index_select(2, rows).index_select(3, cols)
    assert torch.equal(padded[..., :h, :w], x)
    if h > 3 and w > 2:
        assert torch.equal(padded, F.pad(x, (0, 2, 0, 3), mode="reflect"))


@pytest.mark.parametrize("arch", ["report", "unet"])
@pytest.mark.parametrize("size", [(13, 22), (16, 16), (3, 5)])
def test_forward_and_backward_match_torch_twin_float64(arch: str, size: tuple[int, int]) -> None:
    model = build_model(RunConfig(arch=arch, width=4, dtype="float64", init="xavier"))
    twin = twin_of(model)
    x = torch.rand(2, 3, *size, dtype=torch.float64, requires_grad=True)
    y = twin(x)
    g = torch.randn_like(y)
    y.backward(g)
    y_nn = model(x.detach())
    gx = model.backward(g)
    torch.testing.assert_close(y_nn, y.detach(), rtol=1e-12, atol=1e-12)
    assert x.grad is not None
    torch.testing.assert_close(gx, x.grad, rtol=1e-10, atol=1e-12)
    twin_params = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        grad = twin_params[name].grad
        assert grad is not None
        torch.testing.assert_close(p.grad, grad, rtol=1e-10, atol=1e-11, msg=name)


def test_pad_wrapper_backward_sums_mirrored_gradients() -> None:
    from nnkit.layers import ReLU

    pad = PadToMultiple(ReLU(), 4)
    x = torch.rand(1, 1, 3, 1) + 0.1  # padded to 4 x 4: row 3 mirrors row 1, columns copy column 0
    pad(x)
    grad = pad.backward(torch.ones(1, 1, 3, 1))
    assert torch.equal(grad, torch.ones(1, 1, 3, 1))  # the cropped-away copies get no gradient


def test_build_model_is_seeded_and_typed() -> None:
    a = build_model(RunConfig(arch="report", width=4, seed=1))
    b = build_model(RunConfig(arch="report", width=4, seed=1))
    c = build_model(RunConfig(arch="report", width=4, seed=2))
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.state_dict().values(), c.state_dict().values(), strict=True))
    d = build_model(RunConfig(arch="unet", width=4, dtype="float64"))
    assert all(p.data.dtype == torch.float64 for p in d.parameters())


def test_unet_starts_as_identity_for_random_inits_only() -> None:
    x = torch.rand(2, 3, 16, 16)
    model = build_model(RunConfig(arch="unet", width=4, init="he"))
    assert torch.equal(model(x), x)
    constant = build_model(RunConfig(arch="unet", width=4, init="constant_1e-3"))
    assert float(list(constant.parameters())[-1].data.abs().sum()) > 0


def test_unknown_architecture_names_it() -> None:
    with pytest.raises(ValueError, match="resnet"):
        build_architecture("resnet", 8)
