"""Training engines: what takes one optimiser step on a batch, behind one interface (``base.Engine``).

* ``nnkit_engine.NnkitEngine``: the nnkit model, hand-written backward passes, nnkit's optimisers;
* ``twin.TorchEngine``: the model's torch.nn twin with autograd and torch.optim, from the same weights;
* ``lockstep.LockstepEngine``: both, one step each on the same batch, reporting how far they drift.

``make_engine`` picks one from the RunConfig. The modules import ``base`` and each other in one
direction (base <- nnkit_engine, twin <- lockstep <- this package), never this package itself.
"""

from __future__ import annotations

from nnkit import Module
from nnkit.denoise.config import RunConfig
from nnkit.denoise.device import resolve_device
from nnkit.denoise.engines.base import Engine
from nnkit.denoise.engines.lockstep import LockstepEngine
from nnkit.denoise.engines.nnkit_engine import NnkitEngine
from nnkit.denoise.engines.twin import TorchEngine

__all__ = ["Engine", "LockstepEngine", "NnkitEngine", "TorchEngine", "make_engine"]


def make_engine(config: RunConfig, model: Module) -> Engine:
    """The engine named by ``config.engine`` for ``model`` (moved to ``config.device`` and ``config.dtype``)."""
    device = resolve_device(config.device)
    if config.lockstep:
        return LockstepEngine(config, model, device)
    if config.engine == "torch":
        return TorchEngine(config, model, device)
    return NnkitEngine(config, model, device)
