"""Parameter and Module: the tree every nnkit layer and model is built from.

A Module computes ``forward(x)`` and, by hand, ``backward(grad_output)``:

* ``forward`` keeps only what ``backward`` needs (on ``self``);
* ``backward`` returns the gradient with respect to the input of the last ``forward``
  and *adds* into each parameter's ``.grad`` (so gradients accumulate like PyTorch's
  until ``zero_grad()``).

Parameters and sub-modules are registered by plain attribute assignment, as in
``torch.nn``, so that ``named_parameters()`` and ``state_dict()`` walk the tree in
definition order and give dotted names equal to those of the matching torch.nn model.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch import Tensor


class Parameter:
    """A trainable tensor and the gradient accumulated for it."""

    __slots__ = ("data", "grad")

    def __init__(self, data: Tensor) -> None:
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter needs a torch.Tensor, got {type(data).__name__}")
        self.data = data
        self.grad = torch.zeros_like(data)

    @property
    def shape(self) -> torch.Size:
        return self.data.shape

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> None:
        """Move data and grad in place of this Parameter object (optimisers keep their reference)."""
        self.data = self.data.to(device=device, dtype=dtype)
        self.grad = self.grad.to(device=device, dtype=dtype)

    def __repr__(self) -> str:
        return f"Parameter(shape={tuple(self.data.shape)}, dtype={self.data.dtype}, device={self.data.device})"


class ShapeError(ValueError):
    """An input of the wrong shape reached a layer; the message names the layer and shapes."""


class Module:
    """Base class of every nnkit layer and model.

    Subclasses implement ``forward(x)`` and ``backward(grad_output)``; they may override
    ``extra_repr()`` for a readable ``repr``. Assign ``Parameter`` and ``Module``
    attributes in ``__init__`` (after ``super().__init__()``) to register them.
    """

    _parameters: OrderedDict[str, Parameter]
    _modules: OrderedDict[str, Module]
    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration -------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise AttributeError(f"call Module.__init__() in {type(self).__name__} before assigning {name!r}")
        modules = self.__dict__["_modules"]
        params.pop(name, None)
        modules.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- computation ----------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad_output: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def __call__(self, x: Tensor) -> Tensor:
        return self.forward(x)

    def _no_forward_error(self) -> RuntimeError:
        return RuntimeError(f"{self._short_name()}.backward() called before forward()")

    def _short_name(self) -> str:
        return type(self).__name__

    # -- the tree ---------------------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        for name, param in self._parameters.items():
            yield (f"{prefix}.{name}" if prefix else name), param
        for name, child in self._modules.items():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.zero_()

    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    # -- state --------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, Tensor]:
        """Parameter tensors by dotted name: the keys and shapes of the torch.nn twin."""
        return OrderedDict((name, p.data) for name, p in self.named_parameters())

    def load_state_dict(self, state: Mapping[str, Tensor], strict: bool = True) -> None:
        """Copy tensors into the parameters; missing, extra or mis-shaped entries raise KeyError/ValueError."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        extra = [k for k in state if k not in own]
        if strict and (missing or extra):
            raise KeyError(
                f"state_dict does not match {type(self).__name__}: "
                f"missing keys {missing or 'none'}, unexpected keys {extra or 'none'}"
            )
        wrong = [
            f"{k}: expected {tuple(own[k].data.shape)}, got {tuple(v.shape)}"
            for k, v in state.items()
            if k in own and tuple(v.shape) != tuple(own[k].data.shape)
        ]
        if wrong:
            raise ValueError(f"state_dict shapes do not match {type(self).__name__}: " + "; ".join(wrong))
        for k, v in state.items():
            if k in own:
                p = own[k]
                p.data.copy_(v.detach().to(device=p.data.device, dtype=p.data.dtype))

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Module:
        for p in self.parameters():
            p.to(device=device, dtype=dtype)
        for m in self.modules():
            m._moved(device, dtype)
        return self

    def _moved(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        """Hook for layers holding non-parameter tensors (caches, buffers); default: drop nothing."""

    def num_parameters(self) -> int:
        return sum(p.data.numel() for p in self.parameters())

    # -- repr -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        children = list(self._modules.items())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"
