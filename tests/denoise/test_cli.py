"""The console scripts called as a user calls them: flags, files written, exit codes, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nnkit.denoise.checkpoint import load_checkpoint, save_checkpoint
from nnkit.denoise.cli import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, denoise_main, train_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.imageio import read_image, write_image
from nnkit.denoise.models import build_model

TINY = ["--arch", "report", "--width", "4", "--epoch-size", "40", "--batch-size", "20", "--device", "cpu"]


def read_metrics(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def tiny_ckpt(tmp_path: Path) -> Path:
    config = RunConfig(arch="unet", width=4, device="cpu")
    model = build_model(config)
    return save_checkpoint(
        tmp_path / "tiny.safetensors",
        weights=model.state_dict(),
        optimizer_state=None,
        config=config,
        epoch=1,
        step=1,
        best_psnr=20.0,
    )


def photo(seed: int = 0, h: int = 37, w: int = 45) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


# -- denoise-train ----------------------------------------------------------------------------
def test_train_writes_checkpoints_and_metrics_then_resumes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert train_main([*TINY, "--epochs", "1", "--out", str(out), "--quiet", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "noisy input" in printed and "dB" in printed
    for name in (CHECKPOINT_NAME, BEST_NAME, METRICS_NAME, "config.json"):
        assert (out / name).is_file(), name
    records = read_metrics(out / METRICS_NAME)
    steps = [r for r in records if r["event"] == "step"]
    epochs = [r for r in records if r["event"] == "epoch"]
    assert len(steps) == 2 and [r["step"] for r in steps] == [1, 2]
    assert [r["epoch"] for r in epochs] == [0, 1] and epochs[-1]["val_psnr"] > 0
    ckpt = load_checkpoint(out / CHECKPOINT_NAME)
    assert (ckpt.epoch, ckpt.step, ckpt.config.seed, ckpt.config.width) == (1, 2, 3, 4)
    assert json.loads((out / "config.json").read_text())["seed"] == 3

    # the same folder again without --resume would overwrite the run
    assert train_main([*TINY, "--out", str(out), "--quiet"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    # settings of a resumed run cannot change, except epochs/device
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--width", "8", "--quiet"]) == 2
    assert "--width" in capsys.readouterr().err
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2", "--lr", "1e-4", "--quiet"]) == 0
    resumed = load_checkpoint(out / CHECKPOINT_NAME)
    assert resumed.epoch == 2 and resumed.config.lr == 1e-4
    assert resumed.optimizer_state is not None and resumed.optimizer_state["param_groups"][0]["lr"] == 1e-4
    steps = [r["step"] for r in read_metrics(out / METRICS_NAME) if r["event"] == "step"]
    assert steps == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "0"], "--batch-size"),
        (["--arch", "resnet"], "invalid choice"),
        (["--lr", "fast"], "--lr"),
        (["--lr", "nan"], "--lr"),
        (["--width", "2.5"], "--width"),
        (["--device", "tpu"], "--device"),
        (["--resume", "missing.safetensors"], "missing.safetensors"),
        (["--unknown-flag"], "unrecognized"),
    ],
)
def test_train_bad_flags_exit_2(flags: list[str], message: str, tmp_path: Path, capsys) -> None:
    assert train_main([*flags, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_train_ctrl_c_stops_saves_and_exits_130(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    metrics = out / METRICS_NAME

    def interrupt_after_first_step() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if metrics.exists() and '"step"' in metrics.read_text():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when started in the background, as CI may be
    thread = threading.Thread(target=interrupt_after_first_step, daemon=True)
    thread.start()
    flags = ["--arch", "report", "--width", "4", "--epoch-size", "4000", "--batch-size", "4", "--device", "cpu"]
    code = train_main([*flags, "--epochs", "50", "--out", str(out), "--quiet"])
    thread.join(5)
    assert code == 130
    captured = capsys.readouterr()
    assert "interrupted" in captured.err and "stopped" in captured.out
    ckpt = load_checkpoint(out / CHECKPOINT_NAME)
    assert 1 <= ckpt.step < 50 * 1000
    assert signal.getsignal(signal.SIGINT) is handler_before  # the CLI put the previous handler back


def test_train_help_as_a_console_script() -> None:
    exe = shutil.which("denoise-train")
    script = "import sys; from nnkit.denoise.cli import train_main; sys.exit(train_main())"
    cmd = [exe] if exe else [sys.executable, "-c", script]
    result = subprocess.run([*cmd, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for flag in ("--arch", "--batch-size", "--augment", "--no-augment", "--resume", "--out", "--noise-level"):
        assert flag in result.stdout


# -- denoise ------------------------------------------------------------------------------------
def test_denoise_files_and_folders(tmp_path: Path, tiny_ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    write_image(folder / "a.png", photo(0))
    write_image(folder / "b.jpg", photo(1, 20, 30))
    (folder / "notes.txt").write_text("not an image")
    (folder / "broken.png").write_bytes(b"not a png")
    single = write_image(tmp_path / "c.png", photo(2))
    out = tmp_path / "out"
    tiling = ["--tile", "16", "--overlap", "4"]
    code = denoise_main([str(folder), str(single), "-o", str(out), "--checkpoint", str(tiny_ckpt), *tiling])
    err = capsys.readouterr().err
    assert code == 0
    assert "notes.txt" in err and "broken.png" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png.denoised.png", "b.jpg.denoised.png", "c.png.denoised.png"]
    assert read_image(out / "b.jpg.denoised.png").shape == (20, 30, 3)


def test_denoise_never_overwrites(tmp_path: Path, tiny_ckpt: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "in"
    a = write_image(folder / "a.png", photo(0))
    a_out_as_input = write_image(folder / "a.png.denoised.png", photo(1))
    before = {p: p.read_bytes() for p in (a, a_out_as_input)}
    args = [str(folder), "-o", str(folder), "--checkpoint", str(tiny_ckpt), "--overwrite"]
    assert denoise_main(args) == 1  # a.png's output would be the input a.png.denoised.png
    err = capsys.readouterr().err
    assert "is one of the inputs" in err
    assert {p: p.read_bytes() for p in before} == before
    # the output folder is the input folder: its earlier outputs are not denoised again
    assert "an output of denoise in the output folder" in err
    assert not (folder / "a.png.denoised.png.denoised.png").exists()

    out = tmp_path / "out"
    assert denoise_main([str(a), "-o", str(out), "--checkpoint", str(tiny_ckpt)]) == 0
    first = (out / "a.png.denoised.png").read_bytes()
    write_image(folder / "a.png", photo(5), overwrite=True)
    assert denoise_main([str(a), "-o", str(out), "--checkpoint", str(tiny_ckpt)]) == 1  # exists: left alone
    assert "exists already" in capsys.readouterr().err
    assert (out / "a.png.denoised.png").read_bytes() == first
    assert denoise_main([str(a), "-o", str(out), "--checkpoint", str(tiny_ckpt), "--overwrite"]) == 0
    assert (out / "a.png.denoised.png").read_bytes() != first


def test_denoise_same_stem_photos_keep_their_own_results(tmp_path: Path, tiny_ckpt: Path, capsys) -> None:
    one = write_image(tmp_path / "x" / "p.png", photo(0))
    two = write_image(tmp_path / "y" / "p.jpg", photo(1))
    out = tmp_path / "out"
    assert denoise_main([str(one), str(two), str(one), "-o", str(out), "--checkpoint", str(tiny_ckpt), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["p.jpg.denoised.png", "p.png.denoised.png"]
    # the same file name from two folders: the second is refused, the first's result stays its own
    same = write_image(tmp_path / "y" / "p.png", photo(2))
    first = (out / "p.png.denoised.png").read_bytes()
    assert denoise_main([str(one), str(same), "-o", str(out), "--checkpoint", str(tiny_ckpt), "-q", "--overwrite"]) == 1
    assert f"{same}: its output" in capsys.readouterr().err
    assert (out / "p.png.denoised.png").read_bytes() == first


def test_denoise_errors(tmp_path: Path, tiny_ckpt: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    image = write_image(tmp_path / "a.png", photo(0))
    empty = tmp_path / "empty"
    empty.mkdir()
    out = str(tmp_path / "out")
    assert denoise_main([str(empty), "-o", out, "--checkpoint", str(tiny_ckpt)]) == 1
    assert "no image files" in capsys.readouterr().err
    assert denoise_main([str(tmp_path / "nope.png"), "-o", out, "--checkpoint", str(tiny_ckpt)]) == 1
    assert "no such file" in capsys.readouterr().err
    assert denoise_main([str(image), "-o", out, "--checkpoint", str(tiny_ckpt), "--tile", "4"]) == 2
    assert denoise_main([str(image), "-o", out, "--checkpoint", str(image)]) == 1
    assert "a.png" in capsys.readouterr().err
    monkeypatch.setattr("nnkit.denoise.asset_paths.SHIPPED_CHECKPOINT", tmp_path / "shipped.safetensors")
    assert denoise_main([str(image), "-o", out]) == 1
    assert "shipped checkpoint" in capsys.readouterr().err
    assert denoise_main([]) == 2
    assert denoise_main([str(image), "-o", out, "--checkpoint", str(tiny_ckpt), "--device", "tpu"]) == 2
    assert "--device" in capsys.readouterr().err
    fake = write_image(tmp_path / "fake.png", photo(0))
    fake.write_bytes(b"garbage")
    assert denoise_main([str(fake), "-o", out, "--checkpoint", str(tiny_ckpt)]) == 1
    assert "fake.png" in capsys.readouterr().err


def test_denoise_prints_the_estimated_sigma_or_the_given_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nnkit.denoise.inference import Denoiser
    from nnkit.denoise.quality.denoiser_scores import with_noise

    config = RunConfig(arch="report", width=4, device="cpu")  # random weights: the output differs from the input
    tiny_ckpt = save_checkpoint(
        tmp_path / "r.safetensors", weights=build_model(config).state_dict(), optimizer_state=None, config=config,
        epoch=1, step=1, best_psnr=20.0,
    )
    flat = np.full((48, 64, 3), 120, dtype=np.uint8)
    (noisy,) = with_noise([("flat", flat)], "gaussian", 20.0)
    image = write_image(tmp_path / "n.png", noisy.noisy)
    args = [str(image), "-o", str(tmp_path / "out"), "--checkpoint", str(tiny_ckpt)]
    assert denoise_main(args) == 0
    estimate = float(capsys.readouterr().err.split("noise σ ≈ ")[1].split(" (estimated)")[0])
    assert estimate == pytest.approx(20.0, abs=1.5)
    assert denoise_main([*args, "--sigma", "12.5", "--strength", "0.5", "--overwrite"]) == 0
    assert "noise σ 12.5 (given)" in capsys.readouterr().err
    written = read_image(tmp_path / "out" / "n.png.denoised.png")
    den = Denoiser.from_checkpoint(tiny_ckpt, device="cpu")
    assert np.array_equal(written, den.denoise(noisy.noisy, sigma=12.5, strength=0.5))  # σ given: it corrects with it
    assert denoise_main([*args, "--no-mean-correction", "--overwrite"]) == 0
    den.correct_means = False
    assert np.array_equal(read_image(tmp_path / "out" / "n.png.denoised.png"), den.denoise(noisy.noisy))
    for bad in (["--sigma", "-3"], ["--sigma", "nan"], ["--strength", "2"]):
        assert denoise_main([*args, *bad, "--overwrite"]) == 2
        assert "error: --" in capsys.readouterr().err


def test_denoise_leaves_a_model_of_impulse_noise_uncorrected_and_says_so(tmp_path: Path, capsys) -> None:
    from nnkit.denoise.inference import Denoiser

    config = RunConfig(arch="report", width=4, device="cpu", noise="impulse", noise_level=0.1)
    ckpt = save_checkpoint(
        tmp_path / "impulse.safetensors", weights=build_model(config).state_dict(), optimizer_state=None,
        config=config, epoch=1, step=1, best_psnr=20.0,
    )
    image = write_image(tmp_path / "n.png", np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8))
    assert denoise_main([str(image), "-o", str(tmp_path / "out"), "--checkpoint", str(ckpt)]) == 0
    assert "mean correction: off (the model is not one of Gaussian noise)" in capsys.readouterr().err
    den = Denoiser.from_checkpoint(ckpt, device="cpu")
    assert not den.corrects_means
    assert np.array_equal(read_image(tmp_path / "out" / "n.png.denoised.png"), den.denoise(read_image(image)))
