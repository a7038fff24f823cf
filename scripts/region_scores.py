"""PSNR and colour bias overall and in flat and dark regions, for checkpoints on whole photos (dev script).

    python scripts/region_scores.py runs/a/checkpoint.safetensors runs/b/checkpoint.safetensors \
        [--split val] [--noise gaussian --level 25] [--out table.md]

Every checkpoint (and the noisy input itself) sees the same noisy photos as
``nnkit.denoise.quality.denoiser_scores`` (fixed seeded noise, stored as uint8). Regions are those of
``nnkit.denoise.quality.region_scores`` (flat: local std of the clean luminance < 0.01; dark: luminance
< 0.2), pooled over the photos of the split. The default split is ``val``: the test photos are
for final tables only, not for comparing training variants.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint
from nnkit.denoise.inference import denoise_array
from nnkit.denoise.quality.denoiser_scores import EvalPhoto, noisy_photos
from nnkit.denoise.quality.photo_compare import psnr_db
from nnkit.denoise.quality.region_scores import REGIONS, RegionTotals, pooled, region_totals


def _row(label: str, outputs: list[np.ndarray], photos: list[EvalPhoto]) -> str:
    totals = pooled(region_totals(out, p.clean) for out, p in zip(outputs, photos, strict=True))
    mean_psnr = sum(psnr_db(out, p.clean) for out, p in zip(outputs, photos, strict=True)) / len(photos)
    cells = [label, f"{mean_psnr:.2f}"]
    cells += [f"{totals[name].psnr:.2f}" for name in REGIONS]
    cells += [_bias(totals[name]) for name in ("flat", "dark")]
    return "| " + " | ".join(cells) + " |"


def _bias(totals: RegionTotals) -> str:
    return " / ".join(f"{b:+.4f}" for b in totals.bias)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--split", default="val", choices=("train", "val", "test"))
    parser.add_argument("--noise", default="gaussian")
    parser.add_argument("--level", type=float, default=25.0)
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    photos = noisy_photos(args.noise, args.level, split=args.split)
    sizes = pooled(region_totals(p.clean, p.clean) for p in photos)  # region sizes for the header
    share = {name: sizes[name].pixels / sizes["all"].pixels for name in REGIONS}
    lines = [
        f"{len(photos)} {args.split} photos, {args.noise} {args.level:g}; flat {share['flat']:.1%} and "
        f"dark {share['dark']:.1%} of the pixels. PSNR in dB (mean per photo; then pooled over all, flat, dark "
        "pixels); bias = mean (denoised - clean) per channel R / G / B.",
        "",
        "| model | mean PSNR | all (pooled) | flat | dark | bias flat | bias dark |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _row("noisy input", [p.noisy for p in photos], photos),
    ]
    for path in args.checkpoints:
        model = model_from_checkpoint(load_checkpoint(path))
        outputs = [denoise_array(model, p.noisy) for p in photos]
        lines.append(_row(str(path), outputs, photos))
        print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
