"""Runs are never lost: one run a folder, a lock, a checkpoint every epoch, failed resumes change nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnkit.denoise.checkpoint import load_checkpoint, save_checkpoint
from nnkit.denoise.cli import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, train_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_model
from nnkit.denoise.run_folder import LOCK_NAME, RunFolderError, RunLock, check_out_folder
from nnkit.optim import SGD

TINY = ["--arch", "report", "--width", "4", "--epoch-size", "40", "--batch-size", "20", "--device", "cpu", "--quiet"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def run_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-epoch run (copied by tests that change it)."""
    out = tmp_path_factory.mktemp("runs") / "a"
    assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    return out


def copy_run(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name, data in snapshot(src).items():
        (dst / name).write_bytes(data)
    return dst


def test_resume_into_another_run_is_refused_and_changes_nothing(run_a: Path, tmp_path: Path, capsys) -> None:
    a, b = copy_run(run_a, tmp_path / "a"), copy_run(run_a, tmp_path / "b")
    before_a, before_b = snapshot(a), snapshot(b)
    code = train_main(["--resume", str(a / CHECKPOINT_NAME), "--epochs", "2", "--out", str(b), "--quiet"])
    assert code == 2
    assert "holds another run" in capsys.readouterr().err
    assert snapshot(a) == before_a and snapshot(b) == before_b


def test_resume_continues_in_its_own_folder_or_a_new_one(run_a: Path, tmp_path: Path, capsys) -> None:
    a = copy_run(run_a, tmp_path / "a")
    fresh = tmp_path / "fork"
    assert train_main(["--resume", str(a / CHECKPOINT_NAME), "--epochs", "2", "--out", str(fresh), "--quiet"]) == 0
    assert load_checkpoint(fresh / CHECKPOINT_NAME).epoch == 2
    assert load_checkpoint(a / CHECKPOINT_NAME).epoch == 1  # the original run is left as it was
    assert train_main(["--resume", str(a / CHECKPOINT_NAME), "--epochs", "2", "--quiet"]) == 0
    assert load_checkpoint(a / CHECKPOINT_NAME).epoch == 2
    # resuming the best checkpoint into its folder would write over the later checkpoint.safetensors
    before = snapshot(a)
    assert train_main(["--resume", str(a / "checkpoint.best.safetensors"), "--epochs", "3", "--quiet"]) == 2
    assert "later checkpoint.safetensors" in capsys.readouterr().err
    assert snapshot(a) == before


def test_out_that_is_a_file_is_refused(tmp_path: Path, capsys) -> None:
    target = tmp_path / "file"
    target.write_text("mine")
    assert train_main([*TINY, "--epochs", "1", "--out", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err and target.read_text() == "mine"


def test_a_failed_resume_leaves_every_input_byte_identical(tmp_path: Path, capsys) -> None:
    """Optimiser state that does not fit the run (SGD's state under an Adam config): an error, no write."""
    config = RunConfig(arch="report", width=4, epoch_size=40, batch_size=20, device="cpu", epochs=1)
    model = build_model(config)
    sgd = SGD(model.parameters(), lr=0.1, momentum=0.9)
    out = tmp_path / "run"
    save_checkpoint(
        out / CHECKPOINT_NAME,
        weights=model.state_dict(),
        optimizer_state=sgd.state_dict(),
        config=config,
        epoch=1,
        step=2,
        best_psnr=12.0,
    )
    (out / METRICS_NAME).write_text('{"event": "epoch", "epoch": 1}\n')
    before = snapshot(out)
    code = train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "3", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "optimiser state does not fit" in captured.out + captured.err
    assert "Traceback" not in captured.err
    assert snapshot(out) == before


def test_a_second_trainer_on_the_folder_is_refused(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    with RunLock(out):
        assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 1
        err = capsys.readouterr().err
        assert "in use by another training run" in err and str(os.getpid()) in err
    assert not (out / CHECKPOINT_NAME).exists() and not (out / LOCK_NAME).exists()


def test_two_trainer_processes_on_one_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    script = "import sys; from nnkit.denoise.cli import train_main; sys.exit(train_main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with RunLock(out):  # the first trainer, holding the folder; a second process must be refused
        second = subprocess.run(
            [sys.executable, "-c", script, *TINY, "--epochs", "1", "--out", str(out)],
            capture_output=True, text=True, timeout=120, env=env,
        )
    assert second.returncode == 1, second.stderr
    assert "in use by another training run" in second.stderr and "Traceback" not in second.stderr


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    out.mkdir()
    pid = dead_pid()
    (out / LOCK_NAME).write_text(f"{pid}\n")
    leftover = out / f".{CHECKPOINT_NAME}.{pid}.abcd1234.tmp"
    leftover.write_bytes(b"\0" * 100)
    assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"pid {pid}" in err and "no longer running" in err
    assert not leftover.exists() and "removed" in err
    assert not (out / LOCK_NAME).exists()


def test_check_out_folder_rules(tmp_path: Path) -> None:
    check_out_folder(tmp_path / "new")  # absent: fine
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"x")
    check_out_folder(tmp_path / "photos")  # other files are not a run
    (tmp_path / "photos" / "config.json").write_text("{}")
    with pytest.raises(RunFolderError, match=r"saved no checkpoint.*nothing to resume"):  # no --resume advice
        check_out_folder(tmp_path / "photos")
    (tmp_path / "photos" / CHECKPOINT_NAME).write_bytes(b"x")
    with pytest.raises(RunFolderError, match=r"already holds a run.*--resume"):
        check_out_folder(tmp_path / "photos")


def test_latest_checkpoint_after_every_epoch(tmp_path: Path) -> None:
    """A run's checkpoint.safetensors is there after each epoch, not only at the end (a killed run resumes)."""
    from nnkit.denoise.events import Epoch
    from nnkit.denoise.trainer import Trainer

    config = RunConfig(arch="report", width=4, crop_size=16, epoch_size=16, batch_size=8, epochs=3, device="cpu")
    seen: list[tuple[int, int]] = []
    path = tmp_path / CHECKPOINT_NAME

    def on_event(event: object) -> None:
        if isinstance(event, Epoch) and event.epoch >= 2:  # epoch e's Epoch event: e - 1 is on disk
            ckpt = load_checkpoint(path)
            seen.append((ckpt.epoch, ckpt.step))
            assert ckpt.optimizer_state is not None and ckpt.elapsed_s > 0

    assert Trainer(config, on_event, checkpoint_path=path).run().reason == "done"
    assert seen == [(1, 2), (2, 4)]
    assert load_checkpoint(path).epoch == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    best = load_checkpoint(tmp_path / BEST_NAME)  # its training time, as the latest's (it was 0 before)
    assert 0 < best.elapsed_s <= load_checkpoint(path).elapsed_s


def test_an_abort_saves_beside_the_last_clean_checkpoint_never_over_it(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nnkit.denoise.cli import train as train_cli
    from nnkit.denoise.events import Step

    report = train_cli._TrainReporter.__call__

    def second_ctrl_c_in_epoch_2(self, event):  # type: ignore[no-untyped-def]
        report(self, event)
        if isinstance(event, Step) and event.epoch == 2:
            raise KeyboardInterrupt  # what the second Ctrl-C raises inside a step

    monkeypatch.setattr(train_cli._TrainReporter, "__call__", second_ctrl_c_in_epoch_2)
    out = tmp_path / "run"
    train_main([*TINY, "--epochs", "3", "--out", str(out)])
    kept = load_checkpoint(out / CHECKPOINT_NAME)
    assert kept.epoch == 1 and kept.optimizer_state is not None  # the epoch-1 save, resumable exactly
    aborted = load_checkpoint(out / "checkpoint.aborted.safetensors")
    assert aborted.optimizer_state is None and aborted.step >= kept.step
    assert "checkpoint.aborted.safetensors" in capsys.readouterr().out
    train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "3", "--quiet"])  # aborted again
    assert (out / "checkpoint.aborted-2.safetensors").is_file() and (out / "checkpoint.aborted.safetensors").is_file()
