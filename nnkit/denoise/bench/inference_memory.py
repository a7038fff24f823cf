"""Time and peak resident memory of denoising one 3840x2160 photo on the CPU with nnkit.

    python -m nnkit.denoise.bench.inference_memory [--size 3840x2160] [--tile 256] [--checkpoint PATH]
        [--no-mean-correction] [--out result.json]

The run happens in a fresh subprocess so that its peak RSS (ru_maxrss) is its own. The
model is the shipped checkpoint when it exists (or ``--checkpoint``), else a U-Net of
``--width`` with He weights: time and memory do not depend on the weight values. As
``denoise`` runs it, the mean correction (σ estimated) follows the network; ``--no-mean-correction``
measures the network alone. The goal of issue 5 is a peak RSS under 1.5 GB. (scripts/inference_memory.py sweeps sizes.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from nnkit.denoise.inference import denoise_array
h, w, width, tile, overlap = (int(v) for v in sys.argv[1:6])
ckpt, noise_sigma = sys.argv[6], sys.argv[7] or None
before_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if ckpt:
    from nnkit.denoise.checkpoint import load_checkpoint, model_from_checkpoint
    model = model_from_checkpoint(load_checkpoint(ckpt))
    arch = "checkpoint " + ckpt
else:
    from nnkit.denoise.config import RunConfig
    from nnkit.denoise.models import build_model
    model = build_model(RunConfig(arch="unet", width=width))
    arch = f"unet width {width} (random He weights)"
image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tiles = []
start = time.perf_counter()
out = denoise_array(model, image, tile=tile, overlap=overlap, progress=lambda d, t: tiles.append(t),
                   noise_sigma=noise_sigma)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert out.shape == image.shape
print(json.dumps({"size": f"{w}x{h}", "model": arch, "mean_correction": noise_sigma is not None,
                  "tile": tile, "overlap": overlap, "tiles": tiles[-1],
                  "seconds": round(seconds, 2), "peak_rss_mib": round(peak / 1024, 1),
                  "rss_before_mib": round(base / 1024, 1), "threads": torch.get_num_threads()}))
"""


def run(
    size: str, tile: int, overlap: int, width: int, checkpoint: str, mean_correction: bool = True
) -> dict[str, object]:
    """Denoise one random image of ``size`` (WxH) in a fresh Python; returns the child's measurements."""
    w, h = (int(v) for v in size.lower().split("x"))
    correction = "estimate" if mean_correction else ""
    args = [sys.executable, "-c", CHILD, str(h), str(w), str(width), str(tile), str(overlap), checkpoint, correction]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"inference child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print a one-line summary and the JSON, optionally write it."""
    parser = argparse.ArgumentParser(
        prog="python -m nnkit.denoise.bench.inference_memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--size", default="3840x2160", help="image size WxH")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--overlap", type=int, default=32)
    parser.add_argument("--width", type=int, default=32, help="U-Net width when no checkpoint is used")
    parser.add_argument("--checkpoint", default=None, help="a .safetensors checkpoint (default: the shipped one)")
    parser.add_argument("--no-mean-correction", action="store_true", help="the network alone, without the correction")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    checkpoint = args.checkpoint
    if checkpoint is None:
        from nnkit.denoise.asset_paths import SHIPPED_CHECKPOINT

        checkpoint = str(SHIPPED_CHECKPOINT) if SHIPPED_CHECKPOINT.exists() else ""
    result = run(args.size, args.tile, args.overlap, args.width, checkpoint, not args.no_mean_correction)
    print(
        f"{result['size']} with {result['model']}: {result['seconds']} s, {result['tiles']} tiles, "
        f"peak RSS {result['peak_rss_mib']} MiB (goal < 1536 MiB)"
    )
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
