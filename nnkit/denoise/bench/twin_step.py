"""The torch.nn side of the step benchmark: the twin trained by autograd and torch.optim.

It lives in a ``twin`` file because it is the one part of the benchmarks that uses torch.nn
and autograd (nnkit's rules allow them only in the twins).
"""

from __future__ import annotations

import torch

from nnkit import Module

LR = 1e-3  # both sides of the benchmark train with Adam at this rate


class TorchStep:
    """forward, MSE, backward, Adam with the torch.nn twin and autograd (optionally all captured as one CUDA graph).

    ``graph=True`` is torch's own whole-network capture (torch.cuda.graph with a capturable
    Adam, gradients allocated inside the capture), the same trick nnkit's graph plays, for an
    equal comparison at small batches.
    """

    def __init__(self, model: Module, x: torch.Tensor, y: torch.Tensor, graph: bool = False) -> None:
        import nnkit.denoise.engines.twin  # noqa: F401  (registers the twins of the engine's own layers)
        from nnkit.reference import to_torch

        self.twin = to_torch(model)
        self.x, self.y = x, y
        self.opt = torch.optim.Adam(self.twin.parameters(), lr=LR, capturable=graph)
        self.cuda_graph: torch.cuda.CUDAGraph | None = None
        self.graph_loss: torch.Tensor | None = None
        self.warmup = 3 if graph else 0

    def _eager(self) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        value = torch.nn.functional.mse_loss(self.twin(self.x), self.y)
        value.backward()
        self.opt.step()
        return value.detach()

    def __call__(self) -> torch.Tensor:
        if self.cuda_graph is not None:
            self.cuda_graph.replay()
            assert self.graph_loss is not None
            return self.graph_loss
        if self.warmup == 0:
            return self._eager()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            value = self._eager()
        torch.cuda.current_stream().wait_stream(side)
        self.warmup -= 1
        if self.warmup == 0:  # the next call captures and replays
            self.opt.zero_grad(set_to_none=True)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                loss = torch.nn.functional.mse_loss(self.twin(self.x), self.y)
                loss.backward()
                self.opt.step()
            self.cuda_graph, self.graph_loss = graph, loss.detach()
        return value
