"""The σ estimator's error on the corpus photos, old (before issue 21) beside new.

    OMP_NUM_THREADS=1 python scripts/sigma_error.py [--split val|test|train] [--levels 0,5,10,15,25,40,50]
                                                    [--camera 0.3,1,3,10] [--verbose]

Each photo gets the fixed seeded Gaussian noise of ``scripts/baselines.py`` (``with_noise``:
clipped and rounded to 8 bits) and σ̂ − σ (0-255 units) is printed as mean and worst (largest
|error|, signed, with the photo) over the split's photos, for the old estimator
(``scripts/sigma_mad_old.py``) and the new one (``nnkit.denoise.sigma_estimate``).
``--camera`` adds camera noise (``scripts/camera_sets.py``, Brooks' sampling) at those levels:
mean σ̂ old and new beside the noise's true standard deviation (noisy − clean, all pixels).
``--coarse`` adds the new estimator at 2× scale (``coarse_sigma``: a measurement, not used by
``denoise``). ``--verbose`` prints every photo's σ̂ at σ 0 and 5 and whether the clean-photo fade
(``denoise --fade``: FADE_SIGMA0, FADE_WIDTH) would leave the clean photo alone (strength 0)
and give the σ=5 one more. Parameters are chosen on val and train; test is for reporting only.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from sigma_mad_old import mad_sigma  # scripts/ is on sys.path when run as a script

from nnkit.denoise.inference import FADE_SIGMA0, FADE_WIDTH, fade_strength
from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.sigma_estimate import estimate_sigma


def coarse_sigma(noisy: np.ndarray) -> float:
    """The new estimator on the photo's 2×2 block means (float), × 2: for white noise σ again, for
    demosaicked (spatially correlated) noise much nearer its standard deviation. Not what ``denoise`` uses."""
    x = torch.from_numpy(np.ascontiguousarray(noisy)).permute(2, 0, 1).to(torch.float64)
    h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
    means = x[:, :h, :w].reshape(x.shape[0], h // 2, 2, w // 2, 2).mean((2, 4)) / 255.0
    return 2.0 * estimate_sigma(means)


ESTIMATORS: dict[str, Callable[[np.ndarray], float]] = {"old": mad_sigma, "new": estimate_sigma}
Table = dict[float, dict[str, dict[str, float]]]  # σ̂ by level, estimator ('old', 'new') and photo name


def gaussian_table(clean: list[tuple[str, np.ndarray]], levels: list[float]) -> Table:
    """σ̂ by level, estimator and photo name."""
    table: Table = {}
    for level in levels:
        photos = with_noise(clean, "gaussian", level)
        table[level] = {key: {p.name: fn(p.noisy) for p in photos} for key, fn in ESTIMATORS.items()}
    return table


def print_errors(table: Table) -> None:
    """A markdown table: per level, mean and worst σ̂ − σ, old and new."""
    levels = list(table)
    print("| σ | " + " | ".join(f"{lv:g}" for lv in levels) + " |")
    print("|---|" + "---:|" * len(levels))
    for key in ESTIMATORS:
        for what in ("mean", "worst"):
            cells = []
            for level in levels:
                errors = {name: v - level for name, v in table[level][key].items()}
                if what == "mean":
                    cells.append(f"{np.mean(list(errors.values())):+.2f}")
                else:
                    name = max(errors, key=lambda n: abs(errors[n]))
                    cells.append(f"{errors[name]:+.2f} {name}")
            print(f"| {key} {what} | " + " | ".join(cells) + " |")


def print_fade(table: Table) -> None:
    """σ̂ per photo at σ 0 and 5, and the fade strength each would get."""
    print(f"\nfade (FADE_SIGMA0 {FADE_SIGMA0:g}, FADE_WIDTH {FADE_WIDTH:g}): σ̂ and strength s at σ=0 | σ=5")
    for key in ESTIMATORS:
        print(f"{key}:")
        for name, zero in table[0.0][key].items():
            five = table[5.0][key][name]
            print(f"  {name:18s} {zero:6.2f} (s {fade_strength(zero):.2f}) | {five:6.2f} (s {fade_strength(five):.2f})")


def print_camera(clean: list[tuple[str, np.ndarray]], levels: list[float]) -> None:
    """Mean σ̂ old and new under camera noise, beside the noise's own standard deviation."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from camera_sets import camera_photos

    print("\n| camera level | true noise std | " + " | ".join(f"{key} σ̂" for key in ESTIMATORS) + " |")
    print("|---|---:|" + "---:|" * len(ESTIMATORS))
    for level in levels:
        photos = camera_photos(clean, level, split="val")
        std = np.mean([np.std(p.noisy.astype(np.float64) - p.clean.astype(np.float64)) for p in photos])
        means = [np.mean([fn(p.noisy) for p in photos]) for fn in ESTIMATORS.values()]
        print(f"| {level:g} | {std:.2f} | " + " | ".join(f"{m:.2f}" for m in means) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("--levels", default="0,5,10,15,25,40,50", help="Gaussian σ, comma-separated")
    parser.add_argument("--camera", default="", help="camera noise levels (1000·a), comma-separated")
    parser.add_argument("--verbose", action="store_true", help="σ̂ per photo at σ 0 and 5, and the fade")
    parser.add_argument("--coarse", action="store_true", help="add the new estimator at 2× scale (see coarse_sigma)")
    args = parser.parse_args(argv)
    if args.coarse:
        ESTIMATORS["new 2x"] = coarse_sigma
    try:
        levels = [float(v) for v in args.levels.split(",") if v]
        camera = [float(v) for v in args.camera.split(",") if v]
    except ValueError as exc:
        parser.error(f"levels must be comma-separated numbers: {exc}")
    if args.verbose:
        levels = sorted(set(levels) | {0.0, 5.0})
    torch.set_num_threads(1)
    from nnkit.denoise.data import builtin_photos

    clean = builtin_photos(args.split)
    print(f"{args.split} photos ({len(clean)}), load average {os.getloadavg()[0]:.1f}; σ̂ − σ, 0-255 units")
    table = gaussian_table(clean, levels)
    print_errors(table)
    if args.verbose:
        print_fade(table)
    if camera:
        print_camera(clean, camera)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
