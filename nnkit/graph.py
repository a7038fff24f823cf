"""A whole nnkit training step captured once as a CUDA graph, then replayed.

Code without autograd has no hidden state between steps: a step is a fixed sequence of
kernels on tensors that stay where they are (parameters, gradients, optimiser moments,
the layers' saved activations). CUDA graphs capture that sequence once and replay it
with one launch, removing the per-kernel launch cost that dominates small batches.

Conditions, all met by nnkit's layers and optimisers:

* the step reads its batch from fixed input tensors (``GraphedTrainStep`` copies each
  new batch into them) and keeps the same shapes;
* nothing synchronises with the host inside the step (no ``.item()``, no ``float()``);
* the optimiser keeps its step count on the device: ``Adam(..., capturable=True)``
  (SGD has no step count);
* the first ``warmup`` calls run eagerly on a side stream (lazy caches and the scratch
  tensors of nnkit.kernels are built there), the next one captures and replays; every call
  is exactly one real training step. The scratch tensors the graph writes to are kept
  alive for the graph's lifetime, so eager calls in between (e.g. an eval-mode predict)
  are safe.

On the CPU there is nothing to capture: ``GraphedTrainStep`` then runs the step eagerly,
so the same trainer code runs everywhere.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from nnkit.kernels import SHARED
from nnkit.loss import Loss
from nnkit.module import Module
from nnkit.optim import Adam, Optimizer


class GraphedStep:
    """Call ``step()`` eagerly ``warmup`` times on a side stream, then capture it once and replay it."""

    def __init__(
        self,
        step: Callable[[], Tensor],
        warmup: int = 3,
        device: torch.device | str | None = None,
        pin: Callable[[], list[Tensor]] | None = None,
    ) -> None:
        if not torch.cuda.is_available():
            raise RuntimeError("GraphedStep needs CUDA (CUDA graphs); run the step eagerly on the CPU")
        if warmup < 1:
            raise ValueError(f"GraphedStep: warmup must be at least 1 (lazy caches are built there), got {warmup}")
        self.step = step
        self.warmup = warmup
        self.device = torch.device(device) if device is not None else torch.device("cuda", torch.cuda.current_device())
        self.calls = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.output: Tensor | None = None
        self._stream = torch.cuda.Stream(device=self.device)
        self._pin = pin
        self._pinned: list[Tensor] = []

    def __call__(self) -> Tensor:
        """One training step; returns the step's output tensor (static after capture: read it before the next call)."""
        self.calls += 1
        if self.graph is not None:
            self.graph.replay()
            assert self.output is not None
            return self.output
        current = torch.cuda.current_stream(self.device)
        self._stream.wait_stream(current)
        if self.calls <= self.warmup:
            with torch.cuda.stream(self._stream):
                out = self.step()
            current.wait_stream(self._stream)
            return out
        current.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, stream=self._stream):
            self.output = self.step()
        # The graph writes into scratch tensors allocated eagerly during the warm-up (the kernels'
        # shared scratch, the layers' workspaces). Keep them alive: an eager call that later swaps
        # in a bigger buffer must not free memory the graph still writes to.
        self._pinned = SHARED.tensors() + (self._pin() if self._pin is not None else [])
        self.graph = graph
        graph.replay()
        return self.output


class GraphedTrainStep:
    """forward, loss, backward and optimiser step of an nnkit model, as one CUDA graph on CUDA.

    ``step(x, y)`` copies the batch into fixed input tensors and runs the step; it returns
    the loss as a 0-dim tensor on the device (call ``float()`` on it only when the value is
    needed: that waits for the GPU). Batches must keep the shape of the first one; on the
    CPU (or with ``enabled=False``) the step runs eagerly. ``after_backward(loss)`` runs
    between the backward pass and the optimiser step, inside the graph (in place only).
    """

    def __init__(
        self,
        model: Module,
        loss_fn: Loss,
        optimizer: Optimizer,
        example_x: Tensor,
        example_y: Tensor,
        *,
        warmup: int = 3,
        enabled: bool | None = None,
        after_backward: Callable[[Tensor], None] | None = None,
    ) -> None:
        device = example_x.device
        self.enabled = device.type == "cuda" if enabled is None else enabled
        if self.enabled and device.type != "cuda":
            raise ValueError(f"GraphedTrainStep: CUDA graphs need tensors on CUDA, the batch is on {device}")
        if self.enabled and isinstance(optimizer, Adam) and not optimizer.capturable:
            raise ValueError("GraphedTrainStep: Adam must be built with capturable=True (its step count on the device)")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.after_backward = after_backward  # e.g. the gradient all-reduce of data-parallel training
        self.x = example_x.clone()
        self.y = example_y.clone()
        self._graphed = (
            GraphedStep(self._step, warmup=warmup, device=device, pin=self._workspaces) if self.enabled else None
        )

    def _workspaces(self) -> list[Tensor]:
        """Every scratch tensor the model's layers hold (see GraphedStep: pinned for the graph's lifetime)."""
        held: list[Tensor] = []
        for module in self.model.modules():
            ws = getattr(module, "_ws", None)
            if isinstance(ws, dict):
                held.extend(t for t in ws.values() if isinstance(t, Tensor))
        return held

    def _step(self) -> Tensor:
        self.optimizer.zero_grad()
        value = self.loss_fn.forward(self.model.forward(self.x), self.y)
        self.model.backward(self.loss_fn.backward())
        if self.after_backward is not None:
            self.after_backward(value)
        self.optimizer.step()
        return value

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        """One training step on the batch (x, y); returns the loss tensor (before the update)."""
        if x.shape != self.x.shape or y.shape != self.y.shape:
            raise ValueError(
                f"GraphedTrainStep: batch shapes {tuple(x.shape)}, {tuple(y.shape)} differ from the captured "
                f"{tuple(self.x.shape)}, {tuple(self.y.shape)} (drop the last partial batch or build a new step)"
            )
        self.x.copy_(x, non_blocking=True)
        self.y.copy_(y, non_blocking=True)
        if self._graphed is None:
            return self._step()
        return self._graphed().clone()
