"""Module and Parameter: registration, the tree, state_dict errors, to(), train/eval."""

from __future__ import annotations

import pytest
import torch

from nnkit import Conv2d, Module, Parameter, ReLU, Sequential, SkipConcat


def model() -> Sequential:
    return Sequential(Conv2d(3, 4, 3), ReLU(), SkipConcat(Sequential(Conv2d(4, 2, 1, bias=False))))


def test_named_parameters_dotted_in_definition_order() -> None:
    names = [n for n, _ in model().named_parameters()]
    assert names == ["0.weight", "0.bias", "2.inner.0.weight"]
    assert [n for n, _ in model().named_modules()][:3] == ["", "0", "1"]
    assert model().num_parameters() == 4 * 3 * 9 + 4 + 2 * 4


def test_load_state_dict_copies_values() -> None:
    a, b = model(), model()
    b.load_state_dict(a.state_dict())
    for key, value in a.state_dict().items():
        assert torch.equal(b.state_dict()[key], value)
        assert b.state_dict()[key].data_ptr() != value.data_ptr()


def test_load_state_dict_missing_keys() -> None:
    state = model().state_dict()
    del state["0.bias"]
    with pytest.raises(KeyError, match=r"Sequential.*missing keys \['0.bias'\]"):
        model().load_state_dict(state)


def test_load_state_dict_extra_keys() -> None:
    state = model().state_dict()
    state["5.weight"] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"unexpected keys \['5.weight'\]"):
        model().load_state_dict(state)
    model().load_state_dict(state, strict=False)  # tolerated when not strict


def test_load_state_dict_wrong_shapes() -> None:
    state = model().state_dict()
    state["0.weight"] = torch.zeros(4, 3, 5, 5)
    with pytest.raises(ValueError, match=r"0\.weight: expected \(4, 3, 3, 3\), got \(4, 3, 5, 5\)"):
        model().load_state_dict(state)


def test_load_state_dict_converts_dtype() -> None:
    m = model()
    m.load_state_dict({k: v.double() for k, v in model().state_dict().items()})
    assert all(p.data.dtype == torch.float32 for p in m.parameters())


def test_to_moves_parameters_in_place_and_drops_caches() -> None:
    m = model()
    params = m.parameters()
    m(torch.zeros(1, 3, 5, 5))
    m.to(dtype=torch.float64)
    assert m.parameters() == params  # the same Parameter objects (optimisers keep them)
    assert all(p.data.dtype == torch.float64 for p in params)
    with pytest.raises(RuntimeError, match="before forward"):
        m[0].backward(torch.zeros(1, 4, 3, 3, dtype=torch.float64))



def forward_backward(m: Module, x: torch.Tensor) -> list[torch.Tensor]:
    """The output, the input gradient and every parameter gradient of one step."""
    m.zero_grad()
    y = m(x)
    return [y, m.backward(torch.ones_like(y)), *(p.grad.clone() for p in m.parameters())]


def test_drop_caches_forgets_the_forward_and_nothing_else() -> None:
    m = model()
    x = torch.rand(2, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    y = m(x)
    params = [(p, p.data.clone()) for p in m.parameters()]
    assert m.drop_caches() is m
    with pytest.raises(RuntimeError, match=r"Conv2d\(4, 2, k=1\)\.backward\(\) called before forward\(\)"):
        m.backward(torch.ones_like(y))  # the innermost layer that backward reaches first names itself
    with pytest.raises(RuntimeError, match=r"ReLU\.backward\(\) called before forward\(\)"):
        m[1].backward(torch.ones(2, 4, 4, 5))
    assert m.parameters() == [p for p, _ in params]  # the same objects, the same values
    assert all(torch.equal(p.data, value) for p, value in params)


def test_drop_caches_then_a_new_step_gives_the_same_numbers() -> None:
    a, b = model(), model()
    b.load_state_dict(a.state_dict())
    x = torch.rand(2, 3, 6, 7, generator=torch.Generator().manual_seed(1))
    expected = forward_backward(a, x)
    b(torch.rand(1, 3, 9, 8))  # caches of another shape, then dropped
    b.drop_caches()
    got = forward_backward(b, x)
    assert len(got) == len(expected)
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))

def test_parameter_rejects_non_tensors() -> None:
    with pytest.raises(TypeError, match="list"):
        Parameter([1.0])  # type: ignore[arg-type]
    p = Parameter(torch.ones(2, 3))
    assert p.shape == (2, 3) and torch.equal(p.grad, torch.zeros(2, 3))
    assert "shape=(2, 3)" in repr(p)


def test_assigning_before_init_is_explained() -> None:
    class Broken(Module):
        def __init__(self) -> None:
            self.weight = Parameter(torch.zeros(1))

    with pytest.raises(AttributeError, match=r"Module.__init__\(\).*Broken"):
        Broken()


def test_reassigning_and_deleting_attributes() -> None:
    m = Sequential(ReLU())
    setattr(m, "extra", Parameter(torch.zeros(2)))  # noqa: B010
    assert "extra" in m.state_dict()
    setattr(m, "extra", None)  # noqa: B010
    assert "extra" not in m.state_dict()
    delattr(m, "extra")
    assert list(m.state_dict()) == []


def test_train_eval_propagate() -> None:
    m = model()
    assert m.eval() is m and not any(sub.training for sub in m.modules())
    m.train()
    assert all(sub.training for sub in m.modules())


def test_base_module_not_implemented() -> None:
    with pytest.raises(NotImplementedError):
        Module()(torch.zeros(1))
    with pytest.raises(NotImplementedError):
        Module().backward(torch.zeros(1))
