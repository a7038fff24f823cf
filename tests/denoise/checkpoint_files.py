"""Helpers that write checkpoint files, valid or deliberately broken, for the tests of unkind inputs."""

from __future__ import annotations

from pathlib import Path

from safetensors import safe_open
from safetensors.torch import save as st_save
from torch import Tensor

from nnkit.denoise.checkpoint import save_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_model
from nnkit.optim import Adam

SMALL = RunConfig(arch="unet", width=4, device="cpu")


def valid_checkpoint(path: Path, config: RunConfig = SMALL, *, with_optimizer: bool = True) -> Path:
    """A correct checkpoint of a small untrained model (with Adam state after no step: no per-parameter tensors)."""
    model = build_model(config)
    state = Adam(model.parameters(), lr=config.lr).state_dict() if with_optimizer else None
    return save_checkpoint(
        path, weights=model.state_dict(), optimizer_state=state, config=config, epoch=1, step=3, best_psnr=21.5
    )


def read_raw(path: Path) -> tuple[dict[str, str], dict[str, Tensor]]:
    with safe_open(str(path), framework="pt", device="cpu") as f:
        return dict(f.metadata() or {}), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def rewrite(path: Path, *, metadata: dict[str, str] | None = None, tensors: dict[str, Tensor] | None = None) -> Path:
    """Write ``path`` again with some metadata fields or tensors replaced (None values delete them)."""
    meta, data = read_raw(path)
    for key, value in (metadata or {}).items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    for key, tensor in (tensors or {}).items():
        if tensor is None:
            data.pop(key, None)
        else:
            data[key] = tensor
    path.write_bytes(st_save(data, metadata=meta))
    return path
