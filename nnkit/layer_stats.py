"""Per-layer statistics of one training step: what a learner looks at to trust a backward pass.

``inspect_step(model, step)`` runs ``step()`` (a forward, a backward and an optimiser update of
``model``) with a probe on every leaf layer, then reports for each leaf, by its dotted name:

* ``out_mean``, ``out_std`` (population), ``out_zero_frac``: the output of the forward pass
  (a fraction of exact zeros near 1 after a ReLU is a dead layer);
* ``grad_out_norm``: the L2 norm of the gradient arriving at the layer's output in backward;
* for each parameter ``p`` of the layer: ``p_norm`` (before the update), ``p_grad_norm`` and
  ``p_update_ratio`` = |w_after - w_before| / |w_before| (about 1e-3 is healthy for Adam; inf
  for weights that start at zero).

and histograms (bin counts between the min and the max, of at most HISTOGRAM_SAMPLE values
taken evenly) of each leaf's output and output gradient. The probe is an instance attribute
shadowing ``forward``/``backward`` for that one step and removed afterwards: a step that is not
inspected runs the layers untouched. Every number is computed on the tensors' device, in their
dtype, and read back in one transfer at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import torch
from torch import Tensor

from nnkit.module import Module

T = TypeVar("T")
HISTOGRAM_BINS = 40
HISTOGRAM_SAMPLE = 16384  # values per histogram, at most
PROBED = ("forward", "backward")


@dataclass(frozen=True)
class Histogram:
    """Bin counts of (a sample of) a tensor's values: ``counts[i]`` in [lo + i*w, lo + (i+1)*w), w = (hi - lo) / bins.

    lo and hi are the min and max of the whole tensor; the last bin includes hi.
    """

    lo: float
    hi: float
    counts: list[int]


@dataclass(frozen=True)
class LayerReport:
    """The statistics of one inspected step: plain numbers, safe to hand to any thread."""

    stats: dict[str, dict[str, float]]  # layer name -> stat name -> value
    kinds: dict[str, str] = field(default_factory=dict)  # layer name -> class name ('Conv2d')
    activations: dict[str, Histogram] = field(default_factory=dict)  # layer name -> output histogram
    gradients: dict[str, Histogram] = field(default_factory=dict)  # layer name -> output-gradient histogram
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # layer name -> forward input shape


def leaf_layers(model: Module) -> list[tuple[str, Module]]:
    """(dotted name, layer) of every module without children, in definition order; the model itself if a leaf."""
    leaves = [(name, m) for name, m in model.named_modules() if not m._modules]
    return [(name or type(model).__name__, m) for name, m in leaves]


class _Pending:
    """The tensors of one leaf's statistics, kept on the device until the single read-back."""

    def __init__(self) -> None:
        self.scalars: dict[str, Tensor] = {}
        self.histograms: dict[str, tuple[Tensor, Tensor, Tensor]] = {}  # 'activations' -> (lo, hi, counts)
        self.input_shape: tuple[int, ...] = ()


def _sample(t: Tensor) -> Tensor:
    """About HISTOGRAM_SAMPLE of ``t``'s values, taken evenly; a view (no copy) for dense tensors."""
    if t.is_contiguous():
        flat = t.view(-1)
    elif t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        flat = t.permute(0, 2, 3, 1).reshape(-1)  # the order of the memory: still a view
    else:  # a strided view (a skip connection's slice): copy only every k-th image, then sample that
        per_image = max(1, t[0].numel()) if t.dim() > 0 and t.shape[0] > 0 else 1
        images = -(-4 * HISTOGRAM_SAMPLE // per_image)
        flat = t[:: max(1, t.shape[0] // images)].reshape(-1) if t.dim() > 0 else t.reshape(-1)
    return flat[:: -(-flat.numel() // HISTOGRAM_SAMPLE)]


def _histogram(t: Tensor, lo: Tensor, hi: Tensor, bins: int) -> Tensor:
    """Bin counts between lo and hi of about HISTOGRAM_SAMPLE values of ``t`` taken evenly (every k-th).

    For display: the shape of a distribution shows with a few thousand values, and counting every
    value of every layer would cost more than the rest of the statistics together. No host
    synchronisation (unlike torch.histc with a given range).
    """
    sample = _sample(t)
    span = hi - lo
    scale = torch.where(span > 0, bins / span, torch.zeros_like(span))  # one value only: all in bin 0
    position = (sample - lo).mul_(scale).clamp_(0, bins - 1)
    position.masked_fill_(position != position, 0)  # NaN (a diverged run) would be no index at all
    return torch.bincount(position.long(), minlength=bins)


def _moments(t: Tensor) -> tuple[Tensor, Tensor]:
    """(mean, population std) from the sum and the sum of squares: reductions over ``t`` as it lies in memory.

    No temporary tensor: a fresh multi-megabyte buffer per layer costs more in page faults on the
    CPU than the arithmetic (torch.std_mean was several times slower here too).
    When that variance is within the rounding of E[x²] (an output nearly constant, e.g. all equal:
    E[x²] - E[x]² then leaves ~eps·E[x²], whose square root reads as a std of ~1e-9 in float64), it is
    computed again as E[(x - E[x])²], which is exact there; that case alone pays for a temporary.
    """
    n = max(t.numel(), 1)
    mean = t.sum() / n
    mean_square = torch.linalg.vector_norm(t).square() / n
    variance = mean_square - mean.square()
    suspect = variance <= 64 * torch.finfo(t.dtype).eps * mean_square
    if t.is_cuda:  # no host synchronisation in a step: there the exact form is cheap enough to always have
        variance = torch.where(suspect, torch.linalg.vector_norm(t - mean).square() / n, variance)
    elif bool(suspect):
        variance = torch.linalg.vector_norm(t - mean).square() / n
    return mean, variance.clamp(min=0).sqrt()


class LayerProbe:
    """Shadows each leaf's forward and backward with a recording wrapper while entered."""

    def __init__(self, model: Module, bins: int = HISTOGRAM_BINS) -> None:
        self.model = model
        self.bins = bins
        self.leaves = leaf_layers(model)
        self.pending: dict[str, _Pending] = {name: _Pending() for name, _ in self.leaves}

    def __enter__(self) -> LayerProbe:
        for name, layer in self.leaves:
            if any(attr in layer.__dict__ for attr in PROBED):
                raise RuntimeError(f"LayerProbe: layer {name!r} is already probed")
            forward, backward = layer.forward, layer.backward
            object.__setattr__(layer, "forward", self._forward(name, forward))
            object.__setattr__(layer, "backward", self._backward(name, backward))
        return self

    def __exit__(self, *exc: object) -> None:
        for _, layer in self.leaves:
            for attr in PROBED:
                layer.__dict__.pop(attr, None)

    def _forward(self, name: str, forward: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
        def probed(x: Tensor) -> Tensor:
            y = forward(x)
            # measured now: the output may live in a scratch buffer that a later layer reuses
            # in the output's own dtype (float64 models give float64 statistics), on its memory as it lies
            out = y.detach()
            pending = self.pending[name]
            pending.input_shape = tuple(x.shape)
            pending.scalars["out_mean"], pending.scalars["out_std"] = _moments(out)
            pending.scalars["out_zero_frac"] = 1 - torch.count_nonzero(out).to(out.dtype) / max(out.numel(), 1)
            lo, hi = torch.aminmax(out)
            pending.histograms["activations"] = (lo, hi, _histogram(out, lo, hi, self.bins))
            return y

        return probed

    def _backward(self, name: str, backward: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
        def probed(grad_output: Tensor) -> Tensor:
            pending = self.pending[name]
            g = grad_output.detach()
            pending.scalars["grad_out_norm"] = torch.linalg.vector_norm(g)
            lo, hi = torch.aminmax(g)
            pending.histograms["gradients"] = (lo, hi, _histogram(g, lo, hi, self.bins))
            return backward(grad_output)

        return probed

    def parameter_stats(self, before: dict[int, Tensor]) -> None:
        """Norms, gradient norms and update ratios of each leaf's parameters (``before``: id(param) -> old weights)."""
        for name, layer in self.leaves:
            pending = self.pending[name]
            for pname, p in layer.named_parameters():
                old = before[id(p)]
                old_norm = torch.linalg.vector_norm(old)
                pending.scalars[f"{pname}_norm"] = old_norm
                pending.scalars[f"{pname}_grad_norm"] = torch.linalg.vector_norm(p.grad)
                change = torch.linalg.vector_norm(p.data - old)
                pending.scalars[f"{pname}_update_ratio"] = change / old_norm  # inf from all-zero weights

    def report(self) -> LayerReport:
        """Read every statistic back to the host at once."""
        flat: list[Tensor] = []
        for pending in self.pending.values():
            flat += [t.to(torch.float64).reshape(1) for t in pending.scalars.values()]
            for lo, hi, counts in pending.histograms.values():
                flat += [lo.reshape(1), hi.reshape(1), counts.to(torch.float64)]
        values: list[float] = torch.cat(flat).tolist() if flat else []
        at = 0

        def take(n: int) -> list[float]:
            nonlocal at
            at += n
            return values[at - n : at]

        stats: dict[str, dict[str, float]] = {}
        histograms: dict[str, dict[str, Histogram]] = {"activations": {}, "gradients": {}}
        for name, pending in self.pending.items():
            stats[name] = dict(zip(pending.scalars, take(len(pending.scalars)), strict=True))
            for kind, (_, _, counts) in pending.histograms.items():
                low, high = take(2)
                histograms[kind][name] = Histogram(low, high, [int(c) for c in take(counts.numel())])
        return LayerReport(
            stats=stats,
            kinds={name: type(layer).__name__ for name, layer in self.leaves},
            activations=histograms["activations"],
            gradients=histograms["gradients"],
            input_shapes={name: p.input_shape for name, p in self.pending.items()},
        )


def inspect_step(
    model: Module,
    step: Callable[[], T],
    *,
    before: Sequence[Tensor] | None = None,
    bins: int = HISTOGRAM_BINS,
) -> tuple[T, LayerReport]:
    """Run ``step()`` (forward, backward, update of ``model``) under a LayerProbe; (its result, the report).

    ``before``: the weights before the step in ``model.parameters()`` order, when the caller
    already keeps such a copy (the trainer does); otherwise they are copied here.
    """
    params = model.parameters()
    if before is None:
        before = [p.data.detach().clone() for p in params]
    if len(before) != len(params):
        raise ValueError(f"inspect_step: {len(before)} tensors in before, the model has {len(params)} parameters")
    with LayerProbe(model, bins) as probe:
        result = step()
    probe.parameter_stats({id(p): old for p, old in zip(params, before, strict=True)})
    return result, probe.report()


def as_record(report: LayerReport, step: int) -> dict[str, Any]:
    """The metrics.jsonl line of a report: {"event": "layers", "step": S, "layers": {name: {stat: value}}}."""
    return {"event": "layers", "step": step, "layers": report.stats}
