"""Gather measured camera noise profiles (darktable's ``noiseprofiles.json``) and split cameras train/val/test.

    python scripts/gather_noise_profiles.py [--work /tmp/darktable] [--out runs/noise_profiles.json]

darktable (GPL-3) measures, for each of ~374 cameras and each ISO, the raw noise of each colour
channel as variance = a·x + b (x in [0, 1]): the model of ``nnkit.denoise.camera_noise``. The
data are GPL-3, so they are never shipped or committed: this script fetches the Debian package
with its ordinary client (``apt-get update``, ``apt-get download darktable``; needs root or an
apt cache it may write), unpacks it without installing it (``dpkg-deb -x``), and writes a table
to ``--out`` (by default under the git-ignored ``runs/``).

Each camera (maker + model) goes to one split by a stable hash (sha256 of "maker/model"):
70% train, 10% val, 20% test, so a camera's every ISO is on one side. Training draws only
``train`` cameras; the baselines score ``test`` cameras. Profiles with a ≤ 0 in a channel are
dropped (failed fits); a slightly negative b (a fit below zero) is set to 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "runs" / "noise_profiles.json"
INSIDE_PACKAGE = Path("usr/share/darktable/noiseprofiles.json")
SPLITS = (("train", 70), ("val", 80), ("test", 100))  # cumulative percent of cameras


def camera_split(maker: str, model: str) -> str:
    """train / val / test for a camera, from a stable hash of its maker and model."""
    bucket = int(hashlib.sha256(f"{maker}/{model}".encode()).hexdigest(), 16) % 100
    return next(name for name, upto in SPLITS if bucket < upto)


def fetch(work: Path) -> Path:
    """Download and unpack the darktable package into ``work``; the path of its noiseprofiles.json."""
    work.mkdir(parents=True, exist_ok=True)
    found = work / "x" / INSIDE_PACKAGE
    if found.is_file():
        return found
    subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "download", "darktable"], check=True, cwd=work)
    debs = sorted(work.glob("darktable_*.deb"))
    if not debs:
        raise FileNotFoundError(f"apt-get download darktable left no darktable_*.deb in {work}")
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(work / "x")], check=True)
    return found


def profiles_table(source: dict) -> list[dict]:
    """One row per (camera, ISO): maker, model, iso, a[3], b[3], split."""
    rows = []
    for maker_entry in source["noiseprofiles"]:
        maker = maker_entry["maker"]
        for model_entry in maker_entry["models"]:
            model = model_entry["model"]
            split = camera_split(maker, model)
            for p in model_entry["profiles"]:
                a, b = [float(v) for v in p["a"]], [float(v) for v in p["b"]]
                if len(a) != 3 or len(b) != 3 or min(a) <= 0:
                    continue
                rows.append({"maker": maker, "model": model, "iso": float(p["iso"]), "a": a,
                             "b": [max(v, 0.0) for v in b], "split": split})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/darktable-noiseprofiles"))
    parser.add_argument("--source", type=Path, help="an unpacked noiseprofiles.json (skips the download)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    path = args.source or fetch(args.work)
    rows = profiles_table(json.loads(path.read_text(encoding="utf-8")))
    cameras = {s: sorted({f"{r['maker']} {r['model']}" for r in rows if r["split"] == s}) for s, _ in SPLITS}
    out = {
        "source": f"darktable noiseprofiles.json ({path}); GPL-3: do not commit or ship",
        "model": "variance = a*x + b per channel (R, G, B), x linear raw in [0, 1]",
        "cameras": cameras,
        "profiles": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, args.out)
    counts = ", ".join(f"{s}: {len(c)} cameras, {sum(r['split'] == s for r in rows)} profiles"
                       for s, c in cameras.items())
    print(f"wrote {args.out} ({counts})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
