"""denoise-gradcheck as a user calls it: the table, the exit status, a deliberately broken layer, bad input."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from nnkit.denoise.checkpoint import save_checkpoint
from nnkit.denoise.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from nnkit.denoise.cli.gradcheck import gradcheck_main
from nnkit.denoise.config import RunConfig
from nnkit.denoise.models import build_model

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return gradcheck_main(list(argv), out=out), out.getvalue()


def test_the_console_script_prints_a_green_table_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nnkit.denoise.cli.gradcheck", "--width", "2", "--size", "8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == EXIT_OK, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["layer", "kind", "vs", "autograd", "vs", "numeric", "ok"]
    assert lines[1].startswith("input") and "inner.0" in done.stdout and "WRONG" not in done.stdout
    assert lines[-1] == "9 of 9 rows ok"


def test_a_broken_layer_is_the_one_wrong_row_and_exits_1() -> None:
    status, text = run("--arch", "unet", "--width", "2", "--size", "8", "--break-layer", "inner.inner.3")
    assert status == EXIT_FAILED
    wrong = [line.split()[0] for line in text.splitlines() if line.endswith("WRONG")]
    assert wrong == ["inner.inner.3"]
    assert text.splitlines()[-1].endswith("wrong: inner.inner.3")


def test_a_checkpoint_is_checked(tmp_path: Path) -> None:
    config = RunConfig(arch="report", width=3, device="cpu")
    ckpt = save_checkpoint(
        tmp_path / "c.safetensors",
        weights=build_model(config).state_dict(),
        optimizer_state=None,
        config=config,
        epoch=1,
        step=1,
        best_psnr=20.0,
    )
    status, text = run("--checkpoint", str(ckpt), "--size", "8")
    assert status == EXIT_OK and "inner.6" in text


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert run("--break-layer", "nope")[0] == EXIT_USAGE
    assert "--break-layer 'nope' is not a layer" in capsys.readouterr().err
    assert run("--size", "2")[0] == EXIT_USAGE
    assert "--size must be at least 4" in capsys.readouterr().err
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    assert run("--checkpoint", str(tmp_path / "bad.safetensors"))[0] == EXIT_USAGE
    assert "bad.safetensors" in capsys.readouterr().err
