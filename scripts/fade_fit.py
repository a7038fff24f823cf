"""Choose the clean-photo fade of ``denoise`` on the VALIDATION photos (or score a choice on another split).

    OMP_NUM_THREADS=1 python scripts/fade_fit.py [--split val] [--levels 0,2,5,10] [--json FILE]

The fade blends the denoised photo back towards its input where the estimated noise is low:
out = x + s(σ̂)·(f(x) − x), s = clamp((σ̂ − σ0) / w, 0, 1) (``nnkit.denoise.inference.fade_strength``).
For each photo and Gaussian σ (fixed seeded noise, 8-bit, as ``scripts/baselines.py``) the
shipped model's output f(x) (σ estimated, mean correction, the fade off) is computed once;
every (σ0, w) of the grid is then scored: at σ=0 the worst and mean PSNR of the output against
its input, at σ>0 the mean PSNR against the clean photo, beside the fade off. The choice rule:
the (σ0, w) with the smallest mean loss at σ=5 among those whose σ=0 worst is ≥ ``--floor`` dB.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument("--levels", default="0,2,5,10")
    parser.add_argument("--floor", type=float, default=45.0, help="σ=0 worst PSNR against the input to keep")
    parser.add_argument("--json", type=Path, help="write every photo's σ̂ and output PSNRs here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    from nnkit.denoise.data import builtin_photos

    print(f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    den = Denoiser.from_checkpoint(device="cpu")
    den.fade_clean = False
    clean = builtin_photos(args.split)
    levels = [float(v) for v in args.levels.split(",")]
    rows: dict[float, list[tuple[str, float, np.ndarray, np.ndarray, np.ndarray]]] = {}
    for level in levels:
        rows[level] = []
        for p in with_noise(clean, "gaussian", level):
            est = den.estimate_sigma(p.noisy)
            y = den.denoise(p.noisy, sigma=est)
            rows[level].append((p.name, est, p.noisy, y, p.clean))
        print(f"σ={level:g}: σ̂ " + ", ".join(f"{r[0]} {r[1]:.2f}" for r in rows[level]), file=sys.stderr)

    def score(level: float, s0: float, w: float) -> list[float]:
        out = []
        for _name, est, x, y, c in rows[level]:
            s = min(max((est - s0) / w, 0.0), 1.0)
            ref = x if level == 0 else c
            out.append(psnr_db(blend(x, y, s), ref))
        return out

    off = {lv: score(lv, -1e9, 1.0) for lv in levels}
    print("fade off: " + ", ".join(f"σ={lv:g} mean {np.mean(v):.2f} worst {min(v):.2f}" for lv, v in off.items()))
    table = []
    for s0 in SIGMA0:
        for w in WIDTHS:
            scores = {lv: score(lv, s0, w) for lv in levels}
            table.append((s0, w, scores))
    print("| σ0 | w | σ=0 worst / mean | " + " | ".join(f"σ={lv:g} loss" for lv in levels if lv > 0) + " |")
    for s0, w, scores in table:
        zero = scores.get(0.0, [float("nan")])
        losses = [np.mean(scores[lv]) - np.mean(off[lv]) for lv in levels if lv > 0]
        print(f"| {s0:g} | {w:g} | {min(zero):.2f} / {np.mean(zero):.2f} | " + " | ".join(f"{v:+.3f}" for v in losses))
    if 0.0 in levels and 5.0 in levels:
        ok = [(s0, w, sc) for s0, w, sc in table if min(sc[0.0]) >= args.floor]
        if ok:
            s0, w, sc = max(ok, key=lambda t: (np.mean(t[2][5.0]), -t[0]))
            print(f"chosen: σ0={s0:g}, w={w:g} (σ=0 worst {min(sc[0.0]):.2f}, σ=5 loss "
                  f"{np.mean(sc[5.0]) - np.mean(off[5.0]):+.3f})")
        else:
            print(f"no (σ0, w) reaches {args.floor:g} dB at σ=0")
    if args.json is not None:
        dump = {f"{lv:g}": {r[0]: r[1] for r in rows[lv]} for lv in levels}
        args.json.write_text(json.dumps({"sigma_estimates": dump}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
