"""Choose the clean-photo fade of ``denoise`` on the VALIDATION photos (or score a choice on another split).

    OMP_NUM_THREADS=1 python scripts/fade_fit.py [--split val] [--levels 0,2,5,10] [--camera 0.3,1,3]
                                                 [--checkpoint FILE] [--json FILE]

The fade blends the denoised photo back towards its input where the estimated noise is low:
out = x + s(σ̂)·(f(x) − x), s = clamp((σ̂ − σ0) / w, 0, 1) (``nnkit.denoise.inference.fade_strength``).
For each photo and Gaussian σ (fixed seeded noise, 8-bit, as ``scripts/baselines.py``) the
shipped model's output f(x) (σ estimated, mean correction, the fade off) is computed once;
every (σ0, w) of the grid is then scored: at σ=0 the worst and mean PSNR of the output against
its input, at σ>0 the mean PSNR against the clean photo, beside the fade off; with ``--camera``,
camera noise at those levels (``scripts/camera_sets.py``, Brooks' sampling) is scored the same way.
The choice rule: the (σ0, w) with the smallest summed mean loss at σ=5 and at every camera level
among those whose σ=0 worst is ≥ ``--floor`` dB (a photo with real camera noise is the everyday
case the fade must not spoil; σ̂ under-reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from nnkit.denoise.inference import Denoiser
from nnkit.denoise.quality.denoiser_scores import with_noise
from nnkit.denoise.quality.photo_compare import psnr_db

SIGMA0 = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
WIDTHS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0)


def blend(x: np.ndarray, y: np.ndarray, s: float) -> np.ndarray:
    """x + s·(y − x) in float, rounded to uint8 (as denoise_array blends before rounding)."""
    out = x.astype(np.float64) + s * (y.astype(np.float64) - x.astype(np.float64))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _name(level: float | str) -> str:
    return level if isinstance(level, str) else f"σ={level:g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--levels", default="0,2,5,10")
    parser.add_argument("--floor", type=float, default=45.0, help="σ=0 worst PSNR against the input to keep")
    parser.add_argument("--camera", default="", help="camera noise levels (1000·a) to score too, e.g. 0.3,1,3")
    parser.add_argument("--checkpoint", type=Path, help="the model (default: the shipped one)")
    parser.add_argument("--json", type=Path, help="write every photo's σ̂ and output PSNRs here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from nnkit.denoise.data import builtin_photos

    print(f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    den = Denoiser.from_checkpoint(args.checkpoint, device="cpu")
    den.fade_clean = False
    clean = builtin_photos(args.split)
    levels = [float(v) for v in args.levels.split(",")]
    cameras = [f"camera {v}" for v in args.camera.split(",") if v]
    every: list[float | str] = [*levels, *cameras]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from camera_sets import camera_photos

    rows: dict[float | str, list[tuple[str, float, np.ndarray, np.ndarray, np.ndarray]]] = {}
    for level in every:
        rows[level] = []
        if isinstance(level, str):
            photos = camera_photos(clean, float(level.split()[1]))
        else:
            photos = with_noise(clean, "gaussian", level)
        for p in photos:
            est = den.estimate_sigma(p.noisy)
            y = den.denoise(p.noisy, sigma=est)
            rows[level].append((p.name, est, p.noisy, y, p.clean))
        name = level if isinstance(level, str) else f"σ={level:g}"
        print(f"{name}: σ̂ " + ", ".join(f"{r[0]} {r[1]:.2f}" for r in rows[level]), file=sys.stderr)

    def score(level: float | str, s0: float, w: float) -> list[float]:
        out = []
        for _photo, est, x, y, c in rows[level]:
            s = min(max((est - s0) / w, 0.0), 1.0)
            ref = x if level == 0 else c
            out.append(psnr_db(blend(x, y, s), ref))
        return out

    off = {lv: score(lv, -1e9, 1.0) for lv in every}
    print("fade off: " + ", ".join(f"{_name(lv)} mean {np.mean(v):.2f} worst {min(v):.2f}" for lv, v in off.items()))
    table = []
    for s0 in SIGMA0:
        for w in WIDTHS:
            scores = {lv: score(lv, s0, w) for lv in every}
            table.append((s0, w, scores))
    scored = [lv for lv in every if lv != 0.0]
    print("| σ0 | w | σ=0 worst / mean | " + " | ".join(f"{_name(lv)} loss" for lv in scored) + " |")
    for s0, w, scores in table:
        zero = scores.get(0.0, [float("nan")])
        losses = [np.mean(scores[lv]) - np.mean(off[lv]) for lv in scored]
        print(f"| {s0:g} | {w:g} | {min(zero):.2f} / {np.mean(zero):.2f} | " + " | ".join(f"{v:+.3f}" for v in losses))
    if 0.0 in levels and 5.0 in levels:
        ok = [(s0, w, sc) for s0, w, sc in table if min(sc[0.0]) >= args.floor]
        judged: list[float | str] = [5.0, *cameras]

        def loss(sc: dict[float | str, list[float]]) -> float:
            return float(sum(np.mean(sc[lv]) - np.mean(off[lv]) for lv in judged))

        if ok:
            s0, w, sc = max(ok, key=lambda t: (loss(t[2]), -t[0]))
            print(f"chosen: σ0={s0:g}, w={w:g} (σ=0 worst {min(sc[0.0]):.2f}, loss summed over "
                  f"{', '.join(_name(lv) for lv in judged)}: {loss(sc):+.3f} dB)")
        else:
            print(f"no (σ0, w) reaches {args.floor:g} dB at σ=0")
    if args.json is not None:
        dump = {_name(lv): {r[0]: r[1] for r in rows[lv]} for lv in every}
        args.json.write_text(json.dumps({"sigma_estimates": dump}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
