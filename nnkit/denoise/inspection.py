"""Looking inside a denoising network: the trainer's LayerStats events and the gradient check of a network."""

from __future__ import annotations

import torch

from nnkit import Module
from nnkit.conv_pipeline import unfold_pipeline
from nnkit.denoise.events import LayerStats
from nnkit.denoise.models import build_architecture
from nnkit.gradcheck import GradcheckRow, check_model
from nnkit.init import initialise
from nnkit.layer_stats import LayerReport
from nnkit.layers import Conv2d


def layer_stats_event(model: Module, report: LayerReport, step: int, epoch: int) -> LayerStats:
    """The LayerStats event of ``report``, with the unfold -> matmul -> fold shapes of every Conv2d it saw."""
    layers = dict(model.named_modules())
    pipelines = {
        name: unfold_pipeline(layer, shape)
        for name, shape in report.input_shapes.items()
        if isinstance(layer := layers.get(name), Conv2d) and len(shape) == 4
    }
    return LayerStats(step, epoch, report, pipelines)


def model_for_gradcheck(arch: str, width: int, seed: int = 0) -> Module:
    """A network with He weights everywhere, the U-Net's output layer too.

    The trainer starts that layer at zero, which would make every gradient before it zero and
    the check empty.
    """
    model = build_architecture(arch, width)
    initialise(model, "he", torch.Generator().manual_seed(seed))
    return model


def gradcheck_denoiser(
    model: Module, *, batch: int = 2, size: int = 16, seed: int = 0, samples: int = 6
) -> list[GradcheckRow]:
    """nnkit.gradcheck.check_model of ``model`` on random images against random targets (MSE), float64."""
    import nnkit.denoise.engines.twin  # noqa: F401  (registers the twin of PadToMultiple)

    gen = torch.Generator().manual_seed(seed)
    shape = (batch, 3, size, size)
    x, target = torch.rand(shape, generator=gen), torch.rand(shape, generator=gen)
    return check_model(model, x, target, samples=samples, seed=seed)
