"""Blind-spot training on one noisy photo against Noise2Noise and Noise2Clean on the same photo (dev script).

    python scripts/blindspot_vs_n2n.py [--photo astronaut | --image FILE] [--noise gaussian --level 25]
                                       [--methods self,n2n2,n2n,n2c] [--threads 1] [--out FILE.md]

A clean photo is made noisy once (the run's seed, clipped and rounded like an 8-bit file): the
"one noisy photo" of the test. Each method trains with the RunConfig defaults (the same model,
crops, batch, epochs and learning rate; only the target differs) on the photo's top rows (the
bottom fifth is held out, as every single-image run does), then denoises the *whole* noisy photo
(tiled inference, plain and averaged over 8 flips/turns). Scores: PSNR against the clean photo,
whole and on the held-out bottom rows. Every method ends with its last weights (no choice by a
clean score: the blind-spot model must not be picked with the clean image it never has).

- ``self``: blind-spot (target 'self') on the noisy photo alone;
- ``n2n2``: Noise2Noise from two noisy shots of the photo (the noisy photo and a second draw),
  as fixed crop pairs (``course`` data: input shot, target shot);
- ``n2n``: Noise2Noise with fresh noise for every crop (unlimited shots of the clean photo);
- ``n2c``: Noise2Clean, fresh noise for every crop, clean targets.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from nnkit.denoise.config import RunConfig
from nnkit.denoise.data.base import VAL_SEED
from nnkit.denoise.data.folder import SINGLE_IMAGE_VAL_FRACTION
from nnkit.denoise.data.noisy_photos import _noisy_once
from nnkit.denoise.data.photos import builtin_photos
from nnkit.denoise.imageio import read_image, write_image
from nnkit.denoise.inference import denoise_array
from nnkit.denoise.trainer import Trainer

METHODS = {
    "self": "blind-spot (one noisy photo)",
    "n2n2": "Noise2Noise (two noisy shots)",
    "n2n": "Noise2Noise (fresh noise per crop)",
    "n2c": "Noise2Clean (fresh noise per crop)",
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)) / 255.0**2
    return -10.0 * np.log10(max(mse, 1e-10))


def _pairs_file(path: Path, first: np.ndarray, second: np.ndarray, crop: int, count: int) -> None:
    """About ``count`` aligned crop pairs on a regular grid, saved as a course .pkl (uint8 N×3×c×c)."""
    h, w = first.shape[:2]
    stride = max(1, int(np.sqrt((h - crop + 1) * (w - crop + 1) / count)))
    boxes = [(y, x) for y in range(0, h - crop + 1, stride) for x in range(0, w - crop + 1, stride)]
    stack = [
        torch.from_numpy(np.stack([a[y : y + crop, x : x + crop] for y, x in boxes])).permute(0, 3, 1, 2).contiguous()
        for a in (first, second)
    ]
    torch.save((stack[0], stack[1]), path)


def _config(method: str, folder: Path, args: argparse.Namespace) -> RunConfig:
    base = RunConfig(device="cpu", noise=args.noise, noise_level=args.level, seed=args.seed, epochs=args.epochs)
    if args.quick:  # a smoke test of the script, not a measurement
        base = base.replace(width=4, epoch_size=32)
    if method == "n2n2":
        return base.replace(data="course", data_path=str(folder / "pairs"), target="noisy")
    target = {"self": "self", "n2n": "noisy", "n2c": "clean"}[method]
    return base.replace(data="folder", data_path=str(folder / "clean"), target=target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo", default="astronaut", help="a built-in photo (train or val split)")
    parser.add_argument("--image", type=Path, help="a clean image file instead of a built-in photo")
    parser.add_argument("--noise", default="gaussian")
    parser.add_argument("--level", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=RunConfig().epochs)
    parser.add_argument("--methods", default="self,n2n2,n2n,n2c")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="tiny runs: checks the script, measures nothing")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    photos = dict(builtin_photos("train") + builtin_photos("val"))
    clean = read_image(args.image) if args.image is not None else np.array(photos[args.photo])
    name = args.image.name if args.image is not None else args.photo
    probe = RunConfig(noise=args.noise, noise_level=args.level, seed=args.seed)
    noisy = _noisy_once(clean, probe, 0)  # the very image the blind-spot run makes from clean.png
    held_out = clean.shape[0] - max(32, round(clean.shape[0] * SINGLE_IMAGE_VAL_FRACTION))
    lines = [
        f"{name} {clean.shape[1]}×{clean.shape[0]}, {args.noise} {args.level:g}, seed {args.seed}; RunConfig defaults "
        f"(epochs {args.epochs}), {args.threads} thread(s); PSNR of the whole photo and of its held-out bottom "
        f"{clean.shape[0] - held_out} rows",
        "",
        "| method | whole | whole, 8 flips | held-out rows | held-out, 8 flips | CPU s | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| noisy input | {psnr(noisy, clean):.2f} | | {psnr(noisy[held_out:], clean[held_out:]):.2f} | | | |",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "clean").mkdir()
        write_image(folder / "clean" / "clean.png", clean)
        (folder / "pairs").mkdir()
        second = _noisy_once(clean, probe.replace(seed=args.seed + 1000), 0)
        _pairs_file(folder / "pairs" / "train_data.pkl", noisy[:held_out], second[:held_out], 32, probe.epoch_size)
        val_noisy = _noisy_once(clean, probe.replace(seed=VAL_SEED), 0)[held_out:]
        side = min(96, clean.shape[0] - held_out, clean.shape[1])
        _pairs_file(folder / "pairs" / "val_data.pkl", val_noisy, clean[held_out:], side, 8)
        for method in args.methods.split(","):
            config = _config(method, folder, args)
            trainer = Trainer(config)
            wall, cpu = time.perf_counter(), time.process_time()
            finished = trainer.run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if finished.reason != "done":
                raise SystemExit(f"{method}: {finished.reason}: {finished.message}")
            scores = []
            for orientations in (1, 8):
                out = denoise_array(trainer.model, noisy, orientations=orientations)
                scores.append((psnr(out, clean), psnr(out[held_out:], clean[held_out:])))
            row = (
                f"| {METHODS[method]} | {scores[0][0]:.2f} | {scores[1][0]:.2f} | {scores[0][1]:.2f} | "
                f"{scores[1][1]:.2f} | {cpu:.0f} | {wall:.0f} |"
            )
            lines.append(row)
            print(row, flush=True)
    if args.out is not None:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
