"""The trainer's inspection events: per-layer statistics with each Conv2d's pipeline shapes."""

from __future__ import annotations

from nnkit import Module
from nnkit.conv_pipeline import unfold_pipeline
from nnkit.denoise.events import LayerStats
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
