"""The compute devices the form offers, and their names in words."""

from __future__ import annotations

import torch


def device_choices() -> list[str]:
    """'auto', 'cpu' and each CUDA device found."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["auto", "cpu", *[f"cuda:{i}" for i in range(count)]]


def describe_device(name: str) -> str:
    """'auto' resolved to what it means here, with the GPU's name."""
    if name == "auto":
        name = "cuda:0" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and torch.cuda.is_available():
        index = int(name.split(":")[1]) if ":" in name else 0
        try:
            return f"{name} ({torch.cuda.get_device_name(index)})"
        except (RuntimeError, AssertionError):
            return name
    return "CPU" if name == "cpu" else name
