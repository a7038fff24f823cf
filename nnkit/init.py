"""Weight initialisers selectable by name (for the app's list), seeded through a torch.Generator.

An initialiser fills every convolution-like layer of a model in place: each module with
a 4-D ``weight`` Parameter of shape (out_channels, in_channels, kh, kw) and an optional
``bias`` (nnkit's Conv2d and TransposeConv2d). Random numbers are drawn on the generator's
device (usually the CPU), in the parameter's dtype, then copied to the parameter's device,
so a CPU seed gives the same weights whatever device the model is on (the numbers
torch.nn.init draws with that generator).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from nnkit.module import Module, Parameter

Initialiser = Callable[[Parameter, "Parameter | None", torch.Generator], None]


def _fans(weight: Tensor) -> tuple[int, int]:
    out_channels, in_channels, kh, kw = weight.shape
    return in_channels * kh * kw, out_channels * kh * kw


def _normal(p: Parameter, std: float, g: torch.Generator) -> None:
    sample = torch.empty(p.data.shape, dtype=p.data.dtype, device=g.device).normal_(0.0, std, generator=g)
    p.data.copy_(sample)


def _uniform(p: Parameter, bound: float, g: torch.Generator) -> None:
    sample = torch.empty(p.data.shape, dtype=p.data.dtype, device=g.device).uniform_(-bound, bound, generator=g)
    p.data.copy_(sample)


def _zero(bias: Parameter | None) -> None:
    if bias is not None:
        bias.data.zero_()


def he(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
    """Kaiming/He normal, fan-in, ReLU gain: std = sqrt(2 / (in_channels * kh * kw)); bias 0."""
    fan_in, _ = _fans(weight.data)
    _normal(weight, math.sqrt(2.0 / fan_in), g)
    _zero(bias)


def he_report(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
    """The report's He: N(0, 2/N) with N = k*k*out_channels (He et al.'s backward form); bias 0."""
    _, fan_out = _fans(weight.data)
    _normal(weight, math.sqrt(2.0 / fan_out), g)
    _zero(bias)


def xavier(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
    """Glorot/Xavier uniform: U(±sqrt(6 / (fan_in + fan_out))); bias 0."""
    fan_in, fan_out = _fans(weight.data)
    _uniform(weight, math.sqrt(6.0 / (fan_in + fan_out)), g)
    _zero(bias)


def xavier_normal(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
    """Glorot/Xavier normal: std = sqrt(2 / (fan_in + fan_out)); bias 0."""
    fan_in, fan_out = _fans(weight.data)
    _normal(weight, math.sqrt(2.0 / (fan_in + fan_out)), g)
    _zero(bias)


def torch_default(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
    """PyTorch's Conv2d default: kaiming_uniform(a=sqrt 5) = U(±1/sqrt(fan_in)), bias U(±1/sqrt(fan_in))."""
    fan_in, _ = _fans(weight.data)
    gain = math.sqrt(2.0 / (1.0 + 5.0))
    _uniform(weight, gain * math.sqrt(3.0 / fan_in), g)
    if bias is not None:
        _uniform(bias, 1.0 / math.sqrt(fan_in), g)


def _constant(value: float) -> Initialiser:
    def fill(weight: Parameter, bias: Parameter | None, g: torch.Generator) -> None:
        weight.data.fill_(value)
        if bias is not None:
            bias.data.fill_(value)

    fill.__doc__ = f"Every weight and bias set to {value:g} (a row of the report's table)."
    return fill


INITIALISERS: dict[str, Initialiser] = {
    "he": he,
    "he_report": he_report,
    "xavier": xavier,
    "xavier_normal": xavier_normal,
    "torch_default": torch_default,
    "constant_1": _constant(1.0),
    "constant_1e-3": _constant(1e-3),
}

INIT_DESCRIPTIONS: dict[str, str] = {
    "he": "He/Kaiming normal, fan-in, ReLU gain: N(0, 2/(k·k·in_channels)); bias 0",
    "he_report": "The report's He: N(0, 2/N), N = k·k·out_channels; bias 0",
    "xavier": "Glorot/Xavier uniform: U(±√(6/(fan_in+fan_out))); bias 0",
    "xavier_normal": "Glorot/Xavier normal: N(0, 2/(fan_in+fan_out)); bias 0",
    "torch_default": "PyTorch's Conv2d default: weight and bias U(±1/√fan_in)",
    "constant_1": "Every weight and bias 1.0 (the report's table)",
    "constant_1e-3": "Every weight and bias 0.001 (the report's table)",
}


def conv_layers(model: Module) -> Iterator[tuple[str, Parameter, Parameter | None]]:
    """(module name, weight, bias or None) of each module with a 4-D ``weight`` Parameter, in definition order."""
    for name, module in model.named_modules():
        weight = module._parameters.get("weight")
        if weight is not None and weight.data.dim() == 4:
            yield name, weight, module._parameters.get("bias")


def initialise(model: Module, name: str, generator: torch.Generator) -> Module:
    """Fill every convolution-like layer of ``model`` in place with the named initialiser; returns the model."""
    try:
        init = INITIALISERS[name]
    except KeyError:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INITIALISERS)}") from None
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"initialise needs a torch.Generator, got {type(generator).__name__}")
    for _, weight, bias in conv_layers(model):
        init(weight, bias, generator)
    return model
