"""The trainer: events, stop/pause/resume from another thread, determinism, divergence, errors, resume."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.config import ConfigError, RunConfig
from nnkit.denoise.events import Epoch, Event, Finished, Preview, Started, Step
from nnkit.denoise.trainer import Trainer

CFG = RunConfig(arch="report", width=4, crop_size=16, epoch_size=32, batch_size=8, epochs=2, device="cpu", lr=1e-2)
STEPS = 4  # per epoch


def collect(config: RunConfig = CFG, **kwargs: object) -> tuple[list[Event], Trainer]:
    events: list[Event] = []
    trainer = Trainer(config, events.append, **kwargs)  # type: ignore[arg-type]
    trainer.run()
    return events, trainer


def losses(events: list[Event]) -> list[float]:
    return [e.loss for e in events if isinstance(e, Step)]


def test_events_order_and_counts() -> None:
    events, trainer = collect()
    kinds = [type(e).__name__ for e in events]
    per_epoch = ["Step"] * STEPS + ["Epoch", "Preview"]
    assert kinds == ["Started", "Epoch", "Preview", *per_epoch, *per_epoch, "Finished"]
    started = events[0]
    assert isinstance(started, Started)
    assert (started.steps_per_epoch, started.train_size, started.device) == (STEPS, 32, "cpu")
    assert started.num_parameters == trainer.model.num_parameters() and 10 < started.noisy_psnr < 30
    steps = [e for e in events if isinstance(e, Step)]
    assert [s.step for s in steps] == list(range(1, 2 * STEPS + 1))
    assert [s.epoch for s in steps] == [1] * STEPS + [2] * STEPS
    assert all(math.isfinite(s.loss) and s.images_per_s > 0 for s in steps)
    epochs = [e for e in events if isinstance(e, Epoch)]
    assert [e.epoch for e in epochs] == [0, 1, 2]
    assert math.isnan(epochs[0].train_loss) and all(math.isfinite(e.train_loss) for e in epochs[1:])
    assert epochs[1].train_loss == pytest.approx(np.mean(losses(events)[:STEPS]))
    assert epochs[-1].eta_s == 0.0 and epochs[-1].elapsed_s > 0
    preview = events[2]
    assert isinstance(preview, Preview)
    for image in (preview.noisy, preview.denoised, preview.clean):
        assert image.dtype == np.uint8 and image.shape == (4, 96, 96, 3)
    assert len(preview.psnr) == 4
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert (finished.reason, finished.epoch, finished.step) == ("done", 2, 2 * STEPS)
    assert finished.best_psnr == max(e.val_psnr for e in epochs)  # the starting weights count too


def test_same_config_same_curve_and_seed_matters() -> None:
    a, _ = collect()
    b, _ = collect()
    c, _ = collect(CFG.replace(seed=1))
    assert losses(a) == losses(b)
    assert [e.val_psnr for e in a if isinstance(e, Epoch)] == [e.val_psnr for e in b if isinstance(e, Epoch)]
    assert losses(a) != losses(c)


def test_stop_from_another_thread(tmp_path: Path) -> None:
    reached = threading.Event()
    events: list[Event] = []

    def on_event(event: Event) -> None:
        events.append(event)
        if isinstance(event, Step) and event.step == 2:
            reached.set()
            time.sleep(0.2)  # let the other thread's request land before the next step

    trainer = Trainer(CFG.replace(epochs=50), on_event, checkpoint_path=tmp_path / "stop")
    thread = threading.Thread(target=trainer.run)
    thread.start()
    assert reached.wait(30)
    trainer.request_stop()
    thread.join(30)
    assert not thread.is_alive()
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "stopped"
    assert finished.step == 2 and "stopped at step 2" in finished.message
    assert finished.checkpoint is not None and load_checkpoint(finished.checkpoint).step == 2


def test_pause_blocks_until_resume() -> None:
    events: list[Event] = []
    paused = threading.Event()
    trainer: Trainer

    def on_event(event: Event) -> None:
        events.append(event)
        if isinstance(event, Step) and event.step == 1:
            trainer.pause()
            paused.set()

    trainer = Trainer(CFG, on_event)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    assert paused.wait(30)
    time.sleep(0.4)
    assert trainer.paused and len([e for e in events if isinstance(e, Step)]) == 1
    trainer.resume()
    thread.join(30)
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
    assert len(losses(events)) == 2 * STEPS


def test_stop_while_paused_ends_the_run() -> None:
    trainer: Trainer

    def on_event(event: Event) -> None:
        if isinstance(event, Step):
            trainer.pause()

    trainer = Trainer(CFG, on_event)
    thread = threading.Thread(target=trainer.run)
    thread.start()
    time.sleep(0.3)
    trainer.request_stop()
    thread.join(30)
    assert not thread.is_alive()


def test_divergence_keeps_the_best_validated_weights(tmp_path: Path) -> None:
    config = CFG.replace(arch="unet", optimizer="sgd", lr=1e3, momentum=0.9, epochs=3, epoch_size=64)
    validated: dict[int, list[torch.Tensor]] = {}
    psnrs: dict[int, float] = {}
    trainer: Trainer

    def on_event(event: Event) -> None:
        if isinstance(event, Epoch):
            validated[event.epoch] = [p.data.clone() for p in trainer.model.parameters()]
            psnrs[event.epoch] = event.val_psnr

    trainer = Trainer(config, on_event, checkpoint_path=tmp_path / "div")
    finished = trainer.run()
    assert finished.reason == "diverged", finished
    assert "lower the learning rate (1000)" in finished.message and "loss became" in finished.message
    best = max(psnrs, key=lambda e: psnrs[e])  # the starting weights (epoch 0) count too
    assert f"best validated weights (epoch {best}" in finished.message
    for p, g in zip(trainer.model.parameters(), validated[best], strict=True):
        assert torch.equal(p.data, g)
    ckpt = load_checkpoint(tmp_path / "div.safetensors")
    assert ckpt.optimizer_state is None and (ckpt.epoch, ckpt.step) == (finished.epoch, finished.step)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(ckpt.weights[name], value)


def test_errors_become_finished_error(caplog: pytest.LogCaptureFixture) -> None:
    events, _ = collect(CFG.replace(batch_size=64))  # larger than the 32 pairs of an epoch
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.reason == "error"
    assert "batch_size 64" in finished.message

    def explode(event: Event) -> None:
        if isinstance(event, Step):
            raise RuntimeError("callback broke")

    result = Trainer(CFG, explode).run()
    assert result.reason == "error" and "callback broke" in result.message
    assert "training failed" in caplog.text


def test_unknown_device_is_refused_up_front(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="cuda:7 not found"):
        Trainer(CFG.replace(device="cuda:7"))


def test_checkpoint_and_best(tmp_path: Path) -> None:
    events, trainer = collect(checkpoint_path=tmp_path / "run")
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.checkpoint == str(tmp_path / "run.safetensors")
    ckpt = load_checkpoint(finished.checkpoint)
    assert (ckpt.epoch, ckpt.step, ckpt.best_psnr) == (2, 2 * STEPS, finished.best_psnr)
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(ckpt.weights[name], value)
    best = load_checkpoint(tmp_path / "run.best.safetensors")
    assert best.best_psnr == finished.best_psnr


def test_resume_continues_the_same_curve(tmp_path: Path) -> None:
    config = CFG.replace(epochs=3)
    whole, _ = collect(config)
    first, _ = collect(config.replace(epochs=1), checkpoint_path=tmp_path / "a")
    rest, _ = collect(config, resume_from=load_checkpoint(tmp_path / "a.safetensors"))
    assert not any(isinstance(e, Epoch) and e.epoch == 0 for e in rest)
    assert losses(first) + losses(rest) == losses(whole)
    psnrs = [e.val_psnr for e in whole if isinstance(e, Epoch)]
    assert [e.val_psnr for e in rest if isinstance(e, Epoch)] == psnrs[2:]
    finished_ckpt = dataclasses.replace(load_checkpoint(tmp_path / "a.safetensors"), epoch=3, step=3 * STEPS)
    again = Trainer(config, resume_from=finished_ckpt).run()
    assert again.reason == "done" and "nothing to train" in again.message


@pytest.mark.parametrize("engine", ["nnkit", "torch"])
def test_resume_with_a_lower_learning_rate_uses_it(tmp_path: Path, engine: str) -> None:
    config = CFG.replace(engine=engine)
    Trainer(config.replace(epochs=1), checkpoint_path=tmp_path / "a").run()
    ckpt = load_checkpoint(tmp_path / "a.safetensors")
    assert ckpt.optimizer_state is not None and ckpt.optimizer_state["param_groups"][0]["lr"] == config.lr
    trainer = Trainer(config.replace(lr=config.lr / 10), resume_from=ckpt)
    assert trainer.run().reason == "done"
    assert trainer.engine is not None
    assert trainer.engine.optimizer_state()["param_groups"][0]["lr"] == pytest.approx(config.lr / 10)


def test_resume_after_a_stop_mid_epoch(tmp_path: Path) -> None:
    whole, _ = collect()
    trainer: Trainer

    def stop_at_3(event: Event) -> None:
        if isinstance(event, Step) and event.step == 3:
            trainer.request_stop()

    trainer = Trainer(CFG, stop_at_3, checkpoint_path=tmp_path / "b")
    assert trainer.run().reason == "stopped"
    rest, _ = collect(resume_from=load_checkpoint(tmp_path / "b.safetensors"))
    assert next(s.step for s in rest if isinstance(s, Step)) == 4
    assert losses(rest) == losses(whole)[3:]


def test_resume_refuses_another_architecture(tmp_path: Path) -> None:
    collect(CFG.replace(epochs=1), checkpoint_path=tmp_path / "c")
    with pytest.raises(ValueError, match="arch='report' width=4"):
        Trainer(CFG.replace(width=8), resume_from=load_checkpoint(tmp_path / "c.safetensors"))


def test_torch_engine_trains_and_syncs_the_model() -> None:
    events, trainer = collect(CFG.replace(engine="torch", epochs=1))
    assert isinstance(events[-1], Finished) and events[-1].reason == "done"
    assert trainer.engine is not None
    for name, value in trainer.engine.model_state().items():
        assert torch.equal(trainer.model.state_dict()[name], value)


def test_engines_agree_on_validation_psnr_float32() -> None:
    """The issue's float32 check, small: after 5 epochs both engines' validation PSNR agree within 0.05 dB."""
    config = CFG.replace(arch="unet", epochs=5, epoch_size=48)
    nn_events, _ = collect(config)
    torch_events, _ = collect(config.replace(engine="torch"))
    a = [e.val_psnr for e in nn_events if isinstance(e, Epoch)]
    b = [e.val_psnr for e in torch_events if isinstance(e, Epoch)]
    assert len(a) == 6 and a[-1] > a[0]
    assert abs(a[-1] - b[-1]) < 0.05, (a, b)


def test_hard_interrupt_saves_then_propagates(tmp_path: Path) -> None:
    def interrupt(event: Event) -> None:
        if isinstance(event, Step) and event.step == 2:
            raise KeyboardInterrupt

    trainer = Trainer(CFG, interrupt, checkpoint_path=tmp_path / "int")
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    assert load_checkpoint(tmp_path / "int.safetensors").step == 2


def test_nan_validation_output_counts_as_divergence(monkeypatch: pytest.MonkeyPatch) -> None:
    import nnkit.denoise.validation as validation_module

    monkeypatch.setattr(validation_module, "psnr", lambda pred, target: float("nan"))
    finished = Trainer(CFG.replace(epochs=2)).run()
    assert finished.reason == "diverged", finished
    assert "validation output became NaN" in finished.message and "after epoch 1" in finished.message


def test_a_resumed_run_that_diverges_goes_back_to_an_earlier_sessions_best(tmp_path: Path) -> None:
    """The best file of an earlier session beats everything this session validated: the run keeps it."""
    config = CFG.replace(arch="unet", epoch_size=64, epochs=1)
    Trainer(config, checkpoint_path=tmp_path / "div").run()
    best_file = load_checkpoint(tmp_path / "div.best.safetensors")
    # the earlier session's best validated far better than the weights the run resumes from
    ckpt = dataclasses.replace(load_checkpoint(tmp_path / "div.safetensors"), best_psnr=99.0)
    for tensor in ckpt.weights.values():
        tensor.mul_(0.5)
    trainer = Trainer(config.replace(epochs=3, lr=1e3), checkpoint_path=tmp_path / "div", resume_from=ckpt)
    finished = trainer.run()
    assert finished.reason == "diverged", finished
    assert f"best validated weights (epoch {best_file.epoch}, 99.00 dB)" in finished.message
    kept = load_checkpoint(tmp_path / "div.safetensors")
    assert (kept.epoch, kept.step) == (best_file.epoch, best_file.step)
    for name, value in best_file.weights.items():
        assert torch.equal(kept.weights[name], value), name
