"""checkpoint.best.safetensors holds the best validated weights, in every case, and the summary agrees.

Before (issue 19): the best file was first written after epoch 1, so the starting weights never
counted: a run at SGD lr 10 said "the model keeps the best validated weights (epoch 0, 10.45 dB)"
and "validation PSNR: best 4.04 dB", and its best file held the diverged weights (a flat image).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from nnkit.denoise.checkpoint import load_checkpoint
from nnkit.denoise.cli import BEST_NAME, CHECKPOINT_NAME, METRICS_NAME, denoise_main, train_main
from nnkit.denoise.imageio import read_image, write_image

FLAGS = ["--device", "cpu", "--quiet"]


def epoch_psnrs(out: Path) -> dict[int, float]:
    records = [json.loads(line) for line in (out / METRICS_NAME).read_text().splitlines()]
    return {r["epoch"]: r["val_psnr"] for r in records if r["event"] == "epoch"}


# the report network as issue 19 called it (its epoch 0 is its best), and a tiny U-Net whose loss becomes NaN
@pytest.mark.parametrize("arch,width,epoch_size", [("report", 16, 256), ("unet", 4, 64)])
def test_a_diverged_runs_best_checkpoint_is_its_best_validated_weights(
    arch: str, width: int, epoch_size: int, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "run"
    size = ["--width", str(width), "--epoch-size", str(epoch_size), "--optimizer", "sgd", "--lr", "10"]
    code = train_main(["--arch", arch, *size, *FLAGS, "--epochs", "3", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1 and printed.startswith("diverged: "), printed
    psnrs = epoch_psnrs(out)
    best_epoch = max(psnrs, key=lambda e: psnrs[e])  # the starting weights (epoch 0) count too
    best, kept = load_checkpoint(out / BEST_NAME), load_checkpoint(out / CHECKPOINT_NAME)
    assert best.epoch == kept.epoch == best_epoch
    assert best.best_psnr == kept.best_psnr == pytest.approx(psnrs[best_epoch])
    assert best.weights.keys() == kept.weights.keys()
    for name, value in kept.weights.items():
        assert torch.equal(best.weights[name], value), name
    summary = re.search(r"validation PSNR: best ([0-9.]+) dB", printed)
    assert summary is not None and float(summary.group(1)) == pytest.approx(psnrs[best_epoch], abs=0.005)
    assert f"best validated weights (epoch {best_epoch}, {psnrs[best_epoch]:.2f} dB)" in printed

    # and it denoises: diverged weights give one flat value, which denoise refuses
    rng = np.random.default_rng(0)
    write_image(tmp_path / "p.png", rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    assert denoise_main(["--checkpoint", str(out / BEST_NAME), "-o", str(tmp_path / "o"), "--quiet",
                         str(tmp_path / "p.png")]) == 0
    result = read_image(next((tmp_path / "o").iterdir()))
    assert result.std() > 1.0


def test_a_run_that_learns_has_its_best_epoch_in_the_best_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    size = ["--width", "4", "--epoch-size", "64", "--batch-size", "16"]
    assert train_main(["--arch", "report", *size, *FLAGS, "--lr", "1e-2", "--epochs", "2", "--out", str(out)]) == 0
    psnrs = epoch_psnrs(out)
    best = load_checkpoint(out / BEST_NAME)
    assert best.best_psnr == pytest.approx(max(psnrs.values())) and best.epoch == max(psnrs, key=lambda e: psnrs[e])
