"""Classical baselines next to a checkpoint, on the full built-in validation photos (dev script).

    python scripts/baselines.py [--checkpoint CKPT] [--noise gaussian --level 25] [--out FILE.md]

Every method sees the same noisy photos as ``nnkit.denoise.evaluate`` (fixed seeded noise,
stored as uint8 like a photo file) and is scored with the same PSNR (per photo, then the mean):

* the noisy input itself;
* a Gaussian blur, its σ tuned on the *training* photos (same noise, seeded the same way);
* non-local means (``skimage.restoration.denoise_nl_means``, fast mode, 5×5 patches, 13×13
  search window, told the noise σ), its strength ``h`` tuned on the training photos;
* the checkpoint (default: the shipped one, when it exists) through tiled inference.

Tuning uses a central crop (``--tune-crop``, default 256) of each training photo to keep the
script to a few CPU minutes. Needs scikit-image (``pip install -e ".[dev]"``); the package
itself does not.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnkit.denoise.evaluate import EvalPhoto, evaluate_arrays, noisy_photos

BLUR_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
NLM_H_FACTORS = (0.3, 0.4, 0.5, 0.65, 0.8, 1.0)  # h = factor × noise σ (in [0, 1] units)

ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class Row:
    method: str
    setting: str
    scores: dict[str, float]
    seconds: float


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def blur(sigma: float) -> ArrayFn:
    from skimage.filters import gaussian

    return lambda a: to_uint8(gaussian(a.astype(np.float64) / 255.0, sigma=sigma, channel_axis=-1))


def nl_means(h: float, noise_sigma: float) -> ArrayFn:
    from skimage.restoration import denoise_nl_means

    def run(a: np.ndarray) -> np.ndarray:
        x = a.astype(np.float64) / 255.0
        y = denoise_nl_means(x, h=h, sigma=noise_sigma, fast_mode=True, patch_size=5, patch_distance=6, channel_axis=-1)
        return to_uint8(y)

    return run


def centre_crops(photos: list[EvalPhoto], side: int) -> list[EvalPhoto]:
    out = []
    for p in photos:
        h, w = p.clean.shape[:2]
        top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
        crop = (slice(top, top + side), slice(left, left + side))
        out.append(EvalPhoto(p.name, p.clean[crop], p.noisy[crop]))
    return out


def tune(name: str, candidates: dict[str, ArrayFn], photos: list[EvalPhoto], log: Callable[[str], None]) -> str:
    """The candidate with the best mean PSNR on ``photos``."""
    best_key, best = "", -1.0
    for key, fn in candidates.items():
        score = evaluate_arrays(fn, photos)["mean"]
        log(f"  tuning {name}: {key} -> {score:.2f} dB")
        if score > best:
            best_key, best = key, score
    return best_key


def timed(method: str, setting: str, fn: ArrayFn, photos: list[EvalPhoto]) -> Row:
    start = time.perf_counter()
    scores = evaluate_arrays(fn, photos)
    return Row(method, setting, scores, time.perf_counter() - start)


def markdown(rows: list[Row], photos: list[EvalPhoto], noise: str, level: float) -> str:
    names = [p.name for p in photos]
    sizes = ", ".join(f"{p.name} {p.clean.shape[1]}×{p.clean.shape[0]}" for p in photos)
    lines = [
        f"PSNR (dB) on the built-in validation photos ({sizes}), {noise} noise level {level:g}, "
        "fixed seed, noisy photos stored as uint8; settings tuned on the training photos.",
        "",
        "| method | setting | " + " | ".join(names) + " | mean | time (s) |",
        "|---|---|" + "---|" * len(names) + "---|---|",
    ]
    for r in rows:
        cells = " | ".join(f"{r.scores[n]:.2f}" for n in names)
        lines.append(f"| {r.method} | {r.setting} | {cells} | **{r.scores['mean']:.2f}** | {r.seconds:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="checkpoint to score (default: the shipped one if present)")
    parser.add_argument("--noise", default="gaussian", help="noise model (default: gaussian)")
    parser.add_argument("--level", type=float, default=25.0, help="noise level (default: 25)")
    parser.add_argument("--tune-crop", type=int, default=256, help="side of the training crops used for tuning")
    parser.add_argument("--no-nlm", action="store_true", help="skip non-local means (the slowest baseline)")
    parser.add_argument("--tile", type=int, default=256, help="tile side for the checkpoint (default: 256)")
    parser.add_argument("--out", type=Path, help="also write the markdown table to this file")
    args = parser.parse_args(argv)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    val = noisy_photos(args.noise, args.level, split="val")
    train = centre_crops(noisy_photos(args.noise, args.level, split="train"), args.tune_crop)
    rows = [timed("noisy input", "—", lambda a: a, val)]

    sigma = tune("blur", {f"σ={s:g}": blur(s) for s in BLUR_SIGMAS}, train, log)
    rows.append(timed("Gaussian blur", sigma, blur(float(sigma.split("=")[1])), val))
    log(f"blur: {rows[-1].scores['mean']:.2f} dB")

    if not args.no_nlm:
        if args.noise != "gaussian":
            log("non-local means is tuned for Gaussian noise; its σ is set from the level anyway")
        noise_sigma = args.level / 255.0
        candidates = {f"h={f:g}σ": nl_means(f * noise_sigma, noise_sigma) for f in NLM_H_FACTORS}
        h = tune("nlm", candidates, train, log)
        rows.append(timed("non-local means", h, candidates[h], val))
        log(f"nlm: {rows[-1].scores['mean']:.2f} dB")

    rows += _checkpoint_row(args.checkpoint, args.tile, val, log)
    text = markdown(rows, val, args.noise, args.level)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


def _checkpoint_row(path: Path | None, tile: int, val: list[EvalPhoto], log: Callable[[str], None]) -> list[Row]:
    from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT
    from nnkit.denoise.inference import Denoiser

    if path is None and not Path(SHIPPED_CHECKPOINT).is_file():
        log("no --checkpoint and no shipped checkpoint: only the baselines")
        return []
    den = Denoiser.from_checkpoint(path, device="auto")
    log(f"checkpoint: {den.describe()}")
    cfg = den.checkpoint.config
    label = f"{cfg.arch} width {cfg.width}, epoch {den.checkpoint.epoch}"
    return [
        timed(
            f"checkpoint ({den.checkpoint_path.name if den.checkpoint_path else '?'})",
            label,
            lambda a: den.denoise(a, tile=tile),
            val,
        )
    ]


if __name__ == "__main__":
    raise SystemExit(main())
