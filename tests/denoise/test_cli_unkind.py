"""The console scripts under unkind input: special files, bounded sizes, messages and exit codes, never a traceback."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli import CHECKPOINT_NAME, METRICS_NAME, denoise_main, train_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.imageio import ImageReadError, read_image, write_image
from tests.denoise.checkpoint_files import read_raw, rewrite, valid_checkpoint

TINY = ["--arch", "report", "--width", "4", "--epoch-size", "40", "--batch-size", "20", "--device", "cpu", "--quiet"]
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


def photo(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return valid_checkpoint(tmp_path_factory.mktemp("ckpt") / "c.safetensors")


def run_with_deadline(target, seconds: float = 60.0):  # type: ignore[no-untyped-def]
    """Run ``target()`` in a thread; fail (instead of hanging the suite) when it takes longer."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(target()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it hangs"
    return result[0]


@needs_fifo
def test_a_fifo_among_the_inputs_is_skipped_not_waited_on(tmp_path: Path, ckpt: Path, capsys) -> None:
    """Before: a FIFO named x.png in an input folder made denoise hang for ever."""
    folder = tmp_path / "in"
    write_image(folder / "a.png", photo())
    os.mkfifo(folder / "x.png")
    out = tmp_path / "out"
    code = run_with_deadline(lambda: denoise_main([str(folder), "-o", str(out), "--checkpoint", str(ckpt), "-q"]))
    assert code == 0
    err = capsys.readouterr().err
    assert "x.png" in err and "pipe (FIFO)" in err
    assert sorted(p.name for p in out.iterdir()) == ["a.png.denoised.png"]
    # named on the command line: an error naming it, the other input still done
    code = run_with_deadline(
        lambda: denoise_main([str(folder / "x.png"), str(folder / "a.png"), "-o", str(tmp_path / "o2"),
                              "--checkpoint", str(ckpt), "-q"])
    )
    assert code == 1 and "x.png: a pipe (FIFO), not an image file" in capsys.readouterr().err
    result = run_with_deadline(lambda: _raises(read_image, folder / "x.png"))
    assert isinstance(result, ImageReadError) and "not a regular file" in str(result)


def _raises(function, *args):  # type: ignore[no-untyped-def]
    try:
        return function(*args)
    except Exception as exc:  # handed back to the test's thread
        return exc


def test_device_files_are_not_images(tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    result = run_with_deadline(lambda: _raises(read_image, Path("/dev/zero")))
    assert isinstance(result, ImageReadError) and "not a regular file" in str(result)


def test_the_output_folder_as_input_does_not_denoise_its_outputs(tmp_path: Path, ckpt: Path, capsys) -> None:
    folder = tmp_path / "photos"
    write_image(folder / "a.png", photo())
    args = [str(folder), "-o", str(folder), "--checkpoint", str(ckpt), "-q"]
    assert denoise_main(args) == 0
    assert denoise_main(args) == 1  # the second time: a.png.denoised.png exists (left alone) and is not denoised
    err = capsys.readouterr().err
    assert "an output of denoise in the output folder" in err
    assert sorted(p.name for p in folder.iterdir()) == ["a.png", "a.png.denoised.png"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--tile", "5000"], "--tile must be between 8 and 1024"),
        (["--tile", "4"], "--tile must be between 8 and 1024"),
        (["--tile", "64", "--overlap", "40"], "--overlap must be in [0, tile/2 = 32] for --tile 64, got 40"),
        (["--tile", "huge"], "invalid int value"),
    ],
)
def test_size_flags_are_bounded_with_the_limit_in_the_message(
    tmp_path: Path, ckpt: Path, flags: list[str], message: str, capsys
) -> None:
    image = write_image(tmp_path / "a.png", photo())
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), *flags]) == 2
    assert message in capsys.readouterr().err


def test_ctrl_c_in_denoise_exits_130(tmp_path: Path, ckpt: Path, monkeypatch, capsys) -> None:
    """Before: Ctrl-C in denoise ended with exit -2 and a traceback (the docstring says 130)."""
    from nnkit.denoise import file_denoise

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(file_denoise, "denoise_float", interrupted)  # what denoise_file calls
    image = write_image(tmp_path / "a.png", photo())
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "-q"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())


def test_denoise_out_that_is_a_file(tmp_path: Path, ckpt: Path, capsys) -> None:
    image = write_image(tmp_path / "a.png", photo())
    (tmp_path / "o").write_text("mine")
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt)]) == 2
    assert "not a folder" in capsys.readouterr().err and (tmp_path / "o").read_text() == "mine"


def test_denoise_with_a_folder_or_a_bad_checkpoint(tmp_path: Path, ckpt: Path, capsys) -> None:
    image = write_image(tmp_path / "a.png", photo())
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(tmp_path)]) == 1
    assert "is a folder, not a checkpoint file" in capsys.readouterr().err
    bad = rewrite(valid_checkpoint(tmp_path / "int.safetensors"), tensors={
        k: v.to(dtype=__import__("torch").int64) for k, v in read_raw(ckpt)[1].items() if k.startswith("model.")
    })
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "int.safetensors" in err and "not floating point" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", str(2**70)], "--seed: must be between 0 and 2**63 - 1"),
        (["--batch-size", "100000"], "--batch-size: must be between 1 and 4096"),
        (["--crop-size", "1024", "--batch-size", "128"], "times crop_size² must be at most"),
        (["--epochs", "10000000"], "--epochs: must be between 1 and 1,000,000"),
        (["--epoch-size", str(10**9)], "--epoch-size: must be between 1 and 10,000,000"),
        (["--width", "5000"], "--width: must be between 1 and 1024"),
    ],
)
def test_train_size_flags_are_bounded(tmp_path: Path, flags: list[str], message: str, capsys) -> None:
    """Before: --seed 2**70 ended in a traceback."""
    assert train_main([*TINY, *flags, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_data_error_is_a_message_not_a_traceback(tmp_path: Path, capsys) -> None:
    """Before: a 15-line traceback came before the clear message."""
    out = tmp_path / "run"
    code = train_main([*TINY, "--data", "folder", "--data-path", str(tmp_path / "nowhere"), "--out", str(out)])
    captured = capsys.readouterr()
    assert code in (1, 2)
    assert "nowhere" in captured.out + captured.err and "Traceback" not in captured.err
    assert not (out / CHECKPOINT_NAME).exists() and not (out / METRICS_NAME).exists()
    assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 0  # it holds no run: the next one may use it


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("best_psnr", "[1, 2]", "'best_psnr' must be a finite number or null"),
        ("best_psnr", '"text"', "'best_psnr' must be a finite number or null"),
        ("optim", '{"param_groups": "x"}', "'param_groups' must be a list"),
        ("optim", "[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ("config", '{"arch": 3}', "arch: 3 is not one of"),
    ],
)
def test_resume_of_malformed_metadata_is_a_message(
    tmp_path: Path, field: str, value: str, message: str, capsys
) -> None:
    """Before: best_psnr as a list or text, a malformed optimiser state or deep JSON gave tracebacks on --resume."""
    out = tmp_path / "run"
    path = rewrite(valid_checkpoint(out / CHECKPOINT_NAME), metadata={field: value})
    before = path.read_bytes()
    assert train_main(["--resume", str(path), "--epochs", "3", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and "Traceback" not in err
    assert path.read_bytes() == before


def test_resume_says_what_it_resumes_and_continues_elapsed(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert train_main([*TINY, "--epochs", "1", "--out", str(out)]) == 0
    first = load_checkpoint(out / CHECKPOINT_NAME)
    capsys.readouterr()
    assert train_main(["--resume", str(out / CHECKPOINT_NAME), "--epochs", "2"]) == 0
    err = capsys.readouterr().err
    assert f"resuming {out / CHECKPOINT_NAME}: 1 of 2 epochs done, validation PSNR" in err
    records = [json.loads(line) for line in (out / METRICS_NAME).read_text().splitlines()]
    assert any(r["event"] == "resumed" and r["epoch"] == 1 for r in records)
    epochs = [r for r in records if r["event"] == "epoch"]
    assert epochs[-1]["epoch"] == 2 and epochs[-1]["elapsed_s"] > first.elapsed_s > 0
    assert load_checkpoint(out / CHECKPOINT_NAME).elapsed_s > first.elapsed_s


def test_the_progress_line_of_a_resumed_run_shows_the_validation_psnr() -> None:
    """Before: the progress line of a resumed run had no validation PSNR until its first epoch ended."""
    import io

    from nnkit.denoise.cli.train import _TrainReporter
    from nnkit.denoise.events import Started, Step

    class Line:
        def __init__(self) -> None:
            self.updates: list[str] = []
            self.lines: list[str] = []

        def update(self, text: str) -> None:
            self.updates.append(text)

        def finish_line(self, text: str) -> None:
            self.lines.append(text)

    line = Line()
    reporter = _TrainReporter(Path("unused"), line, io.StringIO())  # type: ignore[arg-type]
    started = Started(RunConfig(epochs=3), "cpu", 10, 4, 64, 24, 20.3, "run/checkpoint.safetensors", 1, 24.56)
    reporter.started = started  # as after the Started event (which writes the run folder's files)
    reporter(Step(5, 2, 0.01, 100.0))
    assert "| val 24.56 dB" in line.updates[-1]


def test_the_report_network_at_sgd_lr_10_ends_diverged_with_its_best_weights(tmp_path: Path, capsys) -> None:
    """Before: it ended "done" at 6.6 dB (the README promised a divergence message and the last good weights)."""
    from nnkit.denoise.models import build_model

    out = tmp_path / "run"
    flags = ["--arch", "report", "--width", "8", "--epoch-size", "64", "--batch-size", "16", "--device", "cpu"]
    code = train_main([*flags, "--optimizer", "sgd", "--lr", "10", "--epochs", "6", "--out", str(out), "--quiet"])
    printed = capsys.readouterr().out
    assert code == 1 and printed.startswith("diverged: ")
    assert "below the noisy input" in printed and "lower the learning rate (10)" in printed
    records = [json.loads(line) for line in (out / METRICS_NAME).read_text().splitlines()]
    psnrs = {r["epoch"]: r["val_psnr"] for r in records if r["event"] == "epoch"}
    best = max(psnrs, key=lambda e: psnrs[e])
    kept = load_checkpoint(out / CHECKPOINT_NAME)
    assert kept.epoch == best and kept.optimizer_state is None  # the best validated, the start included
    assert psnrs[best] >= psnrs[0]  # never worse than the starting weights
    if best == 0:
        start = build_model(RunConfig(arch="report", width=8, optimizer="sgd", lr=10.0, epoch_size=64, batch_size=16))
        for name, value in start.state_dict().items():
            assert np.array_equal(kept.weights[name].numpy(), value.numpy())


def test_train_ctrl_c_before_training_starts_is_130(tmp_path: Path, monkeypatch, capsys) -> None:
    import nnkit.denoise.trainer as trainer_module

    def interrupted(config: object) -> None:
        raise KeyboardInterrupt

    import nnkit.denoise.data as data_module

    monkeypatch.setattr(trainer_module, "load_data", interrupted)
    monkeypatch.setattr(data_module, "load_data", interrupted)  # denoise-train loads the data before the trainer
    start = time.monotonic()
    assert train_main([*TINY, "--epochs", "1", "--out", str(tmp_path / "run")]) == 130
    assert time.monotonic() - start < 60


def odd_files(folder: Path) -> dict[str, str]:
    """Files a careless or unkind user leaves among photos, with the word the warning about each must hold."""
    import io

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.jpg").write_text("not a photo")
    buffer = io.BytesIO()
    Image.fromarray(photo(1)).save(buffer, format="PNG")
    (folder / "truncated.png").write_bytes(buffer.getvalue()[:60])
    header = bytearray(buffer.getvalue()[:33])  # a PNG header claiming 100000 x 100000 pixels
    header[16:24] = (100_000).to_bytes(4, "big") * 2
    (folder / "bomb.png").write_bytes(bytes(header))
    (folder / "folder.png").mkdir()
    (folder / "dangling.png").symlink_to(folder / "nowhere.png")
    (folder / "loop.png").symlink_to(folder / "loop.png")
    return {"empty.png": "empty.png", "text.jpg": "text.jpg", "truncated.png": "truncated.png",
            "bomb.png": "bomb.png", "dangling.png": "dangling.png", "loop.png": "loop.png"}


def test_odd_files_in_a_folder_are_skipped_by_name(tmp_path: Path, ckpt: Path, capsys) -> None:
    folder = tmp_path / "in"
    names = odd_files(folder)
    write_image(folder / "good.png", photo())
    out = tmp_path / "out"
    code = run_with_deadline(lambda: denoise_main([str(folder), "-o", str(out), "--checkpoint", str(ckpt), "-q"]))
    err = capsys.readouterr().err
    assert code == 0 and sorted(p.name for p in out.iterdir()) == ["good.png.denoised.png"]
    for name in names.values():
        assert name in err, name
    assert "Traceback" not in err


def test_tile_8_works_with_the_default_overlap(tmp_path: Path, ckpt: Path, capsys) -> None:
    """Before: --tile 8 alone was refused (the default overlap 32 is more than tile/2), though the help allowed 8."""
    image = write_image(tmp_path / "a.png", photo())
    assert denoise_main([str(image), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--tile", "8", "-q"]) == 0
    assert (tmp_path / "o" / "a.png.denoised.png").exists()
    assert capsys.readouterr().err == ""


def test_a_photo_too_thin_for_the_noise_estimate_is_named_in_width_x_height(tmp_path: Path, ckpt: Path, capsys) -> None:
    """Before: 'estimate_sigma: the image must be at least 2×2 pixels, got (50000, 1)'."""
    thin = write_image(tmp_path / "thin.png", np.full((300, 1, 3), 128, dtype=np.uint8))
    code = denoise_main([str(thin), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "thin.png: the photo is 1 × 300 pixels (width × height); estimating its noise needs at least 2 × 2" in err
    assert "estimate_sigma" not in err and "--sigma" in err
    # with the level given there is nothing to estimate: it is denoised
    code = denoise_main([str(thin), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "-q", "--sigma", "10"])
    assert code == 0 and (tmp_path / "o" / "thin.png.denoised.png").exists()


def test_denoise_prints_warnings_as_one_plain_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """A library's warning reads 'denoise: warning: …', not Python's 'file.py:87: UserWarning:' and source line."""
    import warnings

    from nnkit.denoise.cli import denoise as denoise_cli

    def warns(args: object, parser: object) -> int:
        warnings.warn("something a user should know", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(denoise_cli, "_denoise_main", warns)
    assert denoise_cli.denoise_main([str(tmp_path / "x.png")]) == 0
    err = capsys.readouterr().err
    assert err == "denoise: warning: something a user should know\n"
