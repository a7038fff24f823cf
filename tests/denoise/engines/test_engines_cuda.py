"""Engines and the trainer on CUDA (skipped where there is no GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import load_data
from nnkit.denoise.device import resolve_device
from nnkit.denoise.engines import make_engine
from nnkit.denoise.models import build_model
from nnkit.denoise.trainer import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CFG = RunConfig(arch="unet", width=4, crop_size=16, epoch_size=32, batch_size=8, epochs=1, device="cuda")


def test_auto_picks_cuda() -> None:
    assert resolve_device("auto").type == "cuda"


@pytest.mark.parametrize("engine", ["nnkit", "torch"])
def test_cuda_matches_cpu_float64(engine: str) -> None:
    config = CFG.replace(dtype="float64", engine=engine)
    data = load_data(config)
    gpu = make_engine(config, build_model(config))
    cpu = make_engine(config.replace(device="cpu"), build_model(config))
    for x, y in data.epoch_batches(1, config.batch_size):
        assert gpu.train_step(x, y) == pytest.approx(cpu.train_step(x, y), rel=1e-9)
    assert gpu.parameter_tensors()[0].is_cuda


def test_trainer_runs_on_cuda_and_saves_cpu_weights(tmp_path: Path) -> None:
    trainer = Trainer(CFG.replace(device="auto"), checkpoint_path=tmp_path / "gpu")
    finished = trainer.run()
    assert finished.reason == "done", finished
    assert trainer.engine is not None and trainer.engine.device.type == "cuda"
    ckpt = load_checkpoint(tmp_path / "gpu.safetensors")
    assert all(t.device.type == "cpu" for t in ckpt.weights.values())


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_cuda_graph_step_equals_eager_step(optimizer: str) -> None:
    config = CFG.replace(dtype="float64", optimizer=optimizer, epoch_size=64)
    data = load_data(config)
    graphed = make_engine(config, build_model(config))
    eager = make_engine(config.replace(cuda_graph=False), build_model(config))
    assert getattr(graphed, "use_graph", False) and not getattr(eager, "use_graph", True)
    for x, y in data.epoch_batches(1, config.batch_size):
        assert graphed.train_step(x, y) == pytest.approx(eager.train_step(x, y), rel=1e-9)
    for a, b in zip(graphed.parameter_tensors(), eager.parameter_tensors(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
