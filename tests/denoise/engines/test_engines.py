"""Engines: prediction, optimiser state, and nnkit == torch.nn step by step in float64."""

from __future__ import annotations

import pytest
import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data import load_data
from nnkit.denoise.engines import NnkitEngine, TorchEngine, make_engine
from nnkit.denoise.engines import base as engine_base
from nnkit.denoise.models import build_model


def tiny(**changes: object) -> RunConfig:
    base = RunConfig(arch="report", width=4, crop_size=16, epoch_size=64, batch_size=8, epochs=1, device="cpu")
    return base.replace(**changes)


def test_make_engine_picks_the_engine() -> None:
    cfg = tiny()
    assert isinstance(make_engine(cfg, build_model(cfg)), NnkitEngine)
    cfg = tiny(engine="torch")
    assert isinstance(make_engine(cfg, build_model(cfg)), TorchEngine)


@pytest.mark.parametrize("engine", ["nnkit", "torch"])
def test_predict_is_batched_and_does_not_train(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny(engine=engine, arch="unet")
    eng = make_engine(cfg, build_model(cfg))
    eng.train_step(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16))  # make the output non-trivial
    before = [t.clone() for t in eng.parameter_tensors()]
    x = torch.rand(5, 3, 12, 20)
    whole = eng.predict(x)
    monkeypatch.setattr(engine_base, "PREDICT_PIXELS", 12 * 20 * 2)  # two images per chunk
    chunked = eng.predict(x)
    assert whole.shape == x.shape and whole.dtype == torch.float32
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-6)
    assert all(torch.equal(a, b) for a, b in zip(before, eng.parameter_tensors(), strict=True))


@pytest.mark.parametrize("engine", ["nnkit", "torch"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_optimizer_state_resumes_the_same_trajectory(engine: str, optimizer: str) -> None:
    cfg = tiny(engine=engine, optimizer=optimizer, dtype="float64", lr=1e-2)
    batches = [(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16)) for _ in range(4)]
    a = make_engine(cfg, build_model(cfg))
    for x, y in batches[:2]:
        a.train_step(x, y)
    b = make_engine(cfg, build_model(cfg))
    b.load_model_state({k: v.clone() for k, v in a.model_state().items()})
    b.load_optimizer_state(a.optimizer_state())
    for x, y in batches[2:]:
        assert a.train_step(x, y) == b.train_step(x, y)


def test_torch_engine_syncs_the_nnkit_model() -> None:
    cfg = tiny(engine="torch")
    model = build_model(cfg)
    eng = make_engine(cfg, model)
    eng.train_step(torch.rand(4, 3, 16, 16), torch.rand(4, 3, 16, 16))
    eng.sync_model()
    for name, value in eng.model_state().items():
        assert torch.equal(model.state_dict()[name], value), name


PARITY = [
    dict(arch="report", optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    dict(arch="report", optimizer="adam", lr=1e-2, loss="l1"),
    dict(arch="unet", optimizer="adam", lr=1e-3, weight_decay=1e-4),
    dict(arch="unet", optimizer="sgd", lr=1e-2, momentum=0.5, loss="l1", init="torch_default"),
]


@pytest.mark.parametrize("changes", PARITY, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_nnkit_and_torch_engines_agree_every_step_float64(changes: dict) -> None:
    """Same RunConfig and seed, float64: every training loss of an epoch agrees to 1e-9 relative."""
    cfg = tiny(dtype="float64", epoch_size=96, **changes)
    data = load_data(cfg)
    nn_engine = make_engine(cfg, build_model(cfg))
    torch_engine = make_engine(cfg.replace(engine="torch"), build_model(cfg))
    steps = 0
    for x, y in data.epoch_batches(1, cfg.batch_size):
        a, b = nn_engine.train_step(x, y), torch_engine.train_step(x, y)
        assert a == pytest.approx(b, rel=1e-9, abs=0.0), f"step {steps + 1}: nnkit {a!r} torch {b!r}"
        steps += 1
    assert steps == data.batches_per_epoch(cfg.batch_size) == 12
    for name, value in nn_engine.model_state().items():
        torch.testing.assert_close(value, torch_engine.model_state()[name], rtol=1e-7, atol=1e-9, msg=name)


def test_cuda_graph_option_is_inert_on_cpu() -> None:
    config = RunConfig(arch="report", width=4, crop_size=16, epoch_size=16, batch_size=8, device="cpu", cuda_graph=True)
    engine = make_engine(config, build_model(config))
    assert not getattr(engine, "use_graph", True)
