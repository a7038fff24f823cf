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


class Parameter(Tensor):
    """A trainable tensor: a ``torch.Tensor`` (as ``torch.nn.Parameter`` is) with its own ``.grad`` buffer.

    It goes anywhere a tensor goes (``F.conv2d(x, conv.weight, conv.bias)``), but it never
    requires grad: nnkit's backward passes are written by hand and *add* into ``.grad``, a
    buffer of the parameter's shape allocated once here. ``.grad`` is torch's own slot (so
    ``p.grad`` reads as in PyTorch); assigning it never sets ``requires_grad``, and no autograd
    graph is ever recorded. Operations on a Parameter return plain tensors (no
    ``__torch_function__`` wrapping, the same fast path as any tensor).

    ``Parameter.to()`` is ``Tensor.to()`` (a new tensor); ``Module.to()`` moves parameters in
    place with ``move_()``, so optimisers and CUDA graphs keep the same objects.
    """

    __torch_function__ = torch._C._disabled_torch_function_impl  # type: ignore[assignment]  # as torch.nn.Parameter
    grad: Tensor  # always allocated (see __init__); torch types it Optional

    def __new__(cls, data: Tensor) -> Parameter:
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter needs a torch.Tensor, got {type(data).__name__}")
        # Shares data's storage, like torch.nn.Parameter; False: never requires grad.
        return Tensor._make_subclass(cls, data.detach(), False)

    def __init__(self, data: Tensor) -> None:
        self.grad = torch.zeros_like(data)

    def move_(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Parameter:
        """Move data and grad in place of this object (optimisers keep their reference); returns self."""
        grad = self.grad.to(device=device, dtype=dtype) if self.grad is not None else None
        self.data = self.data.to(device=device, dtype=dtype)
        self.grad = grad if grad is not None else torch.zeros_like(self.data)
        return self

    def zero_grad_(self) -> None:
        """Zero ``.grad`` in place; re-allocates it if someone set it to None (PyTorch's set_to_none habit)."""
        if self.grad is None:
            self.grad = torch.zeros_like(self.data)
        else:
            self.grad.zero_()

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        copy = Parameter(self.data.clone(memory_format=torch.preserve_format))
        copy.grad.copy_(self.grad)
        memo[id(self)] = copy
        return copy

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Pickled as its data (the grad buffer starts at zero again), as torch.nn.Parameter drops hooks.
        return (Parameter, (self.data,))

    def __repr__(self) -> str:  # type: ignore[override]  # as torch.nn.Parameter
        head = f"Parameter(shape={tuple(self.shape)}, dtype={self.dtype}, device={self.device})"
        return head + " containing:\n" + repr(self.data)


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
            p.zero_grad_()

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
        """Copy tensors into the parameters; missing, extra or mis-shaped entries raise KeyError/ValueError.

        Every entry is checked before any is copied (a failure leaves the parameters as they were):
        a value that is not a torch.Tensor, or not floating point, raises TypeError naming its key;
        NaN or Inf values raise ValueError.
        """
        name = type(self).__name__
        if not isinstance(state, Mapping):
            raise TypeError(f"{name}.load_state_dict expects a mapping of names to tensors, got {type(state).__name__}")
        own = dict(self.named_parameters())
        for k, v in state.items():
            if k not in own:
                continue
            if not isinstance(v, torch.Tensor):
                raise TypeError(f"{name}.load_state_dict: {k!r} must be a torch.Tensor, got {type(v).__name__}")
            if not v.is_floating_point():
                raise TypeError(f"{name}.load_state_dict: {k!r} has dtype {v.dtype}, parameters need floating point")
            if not bool(torch.isfinite(v).all()):
                raise ValueError(f"{name}.load_state_dict: {k!r} holds NaN or Inf values")
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
            p.move_(device=device, dtype=dtype)
        for m in self.modules():
            m._moved(device, dtype)
        return self

    def drop_caches(self) -> Module:
        """Forget what forward kept for backward, in this module and every module under it (frees that memory).

        For a model that only predicts (tiled inference, a probe): a backward afterwards needs a new
        forward first, and says so. Returns the module.
        """
        for m in self.modules():
            m._moved(None, None)  # the layers' hook for what they hold besides parameters: they drop it
        return self

    def _moved(self, device: torch.device | str | None, dtype: torch.dtype | None) -> None:
        """Hook for layers holding non-parameter tensors (forward caches): drop them; default: none held.

        ``to()`` calls it after moving the parameters, ``drop_caches()`` with (None, None).
        """

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
