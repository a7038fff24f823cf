"""resolve_device: device names as torch devices, and missing GPUs refused with a ConfigError naming them."""

from __future__ import annotations

import pytest
import torch

from nnkit.denoise.config import ConfigError
from nnkit.denoise.device import resolve_device


def test_resolve_device_cpu_and_auto() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_unknown_cuda_device_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match=r"cuda:3 not found: 1 CUDA device\(s\)"):
        resolve_device("cuda:3")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="cuda not found: no CUDA device"):
        resolve_device("cuda")
