"""Time and peak memory of tiled inference by image size (dev script).

    python scripts/inference_memory.py [--sizes 512x512,1920x1080,3840x2160] [--width 32] [--tile 256]

Each size runs in a fresh subprocess so that its peak resident memory (ru_maxrss) is its own.
With tiling the peak should stay nearly flat as the image grows: only the image, its float
copy, the output and weight accumulators (about 36 bytes a pixel) grow, not the activations.
A U-Net with random weights is used unless ``--checkpoint`` is given; the numbers do not
depend on the weights.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
from nnkit.denoise.config import RunConfig
from nnkit.denoise.inference import Denoiser, denoise_array
from nnkit.denoise.models import build_model
h, w, width, tile = (int(v) for v in sys.argv[1:5])
ckpt, device = sys.argv[5], sys.argv[6]
if ckpt:
    model = Denoiser.from_checkpoint(ckpt, device=device).model
else:
    model = build_model(RunConfig(arch="unet", width=width, device="cpu"))
    model.to(device=device if device != "auto" else None)
image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tiles = []
start = time.perf_counter()
denoise_array(model, image, tile=tile, progress=lambda d, t: tiles.append(t))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
gpu = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0
print(json.dumps({"size": f"{w}x{h}", "tiles": tiles[-1], "seconds": seconds,
                  "peak_rss_mib": peak / 1024, "before_mib": base / 1024, "gpu_peak_mib": gpu}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="512x512,1920x1080,3840x2160", help="comma-separated WxH")
    parser.add_argument("--width", type=int, default=32, help="U-Net width (default: 32)")
    parser.add_argument("--tile", type=int, default=256, help="tile side (default: 256)")
    parser.add_argument("--checkpoint", default="", help="checkpoint instead of a random U-Net")
    parser.add_argument("--device", default="cpu", help="device (default: cpu)")
    args = parser.parse_args(argv)
    print("| image | tiles | time (s) | peak RSS (MiB) | RSS before (MiB) | GPU peak (MiB) |")
    print("|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        w, h = (int(v) for v in size.lower().split("x"))
        numbers = [str(v) for v in (h, w, args.width, args.tile)]
        cmd = [sys.executable, "-c", CHILD, *numbers, args.checkpoint, args.device]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        r = json.loads(out)
        print(
            f"| {r['size']} | {r['tiles']} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} | "
            f"{r['before_mib']:.0f} | {r['gpu_peak_mib']:.0f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
