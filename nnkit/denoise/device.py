"""resolve_device: a RunConfig.device name ('auto', 'cpu', 'cuda', 'cuda:N') as the torch.device it means here.

The one place a device name is resolved: the engines, the trainer, tiled inference, the CLIs
and the app all call this, so that a missing GPU is refused with the same ConfigError everywhere.
"""

from __future__ import annotations

import torch

from nnkit.denoise.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """torch.device for a RunConfig.device ('auto', 'cpu', 'cuda', 'cuda:N'); ConfigError if it is not there."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError("device", f"{name} not found: no CUDA device (torch {torch.__version__})")
        # plain 'cuda' is the current device: 0, or GPU LOCAL_RANK in a data-parallel run (set by distributed.join)
        index = int(name.split(":", 1)[1]) if ":" in name else torch.cuda.current_device()
        if index >= count:
            raise ConfigError("device", f"{name} not found: {count} CUDA device(s)")
        return torch.device("cuda", index)
    raise ConfigError("device", f"unknown device {name!r} (use 'auto', 'cpu', 'cuda' or 'cuda:N')")

