"""Bounded memory, as the operating system enforces it: the σ estimate and the mean correction of a
large photo under an address-space limit (RLIMIT_AS), and ``denoise`` under ``ulimit -v``: a photo
that does not fit is one line and the batch goes on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.denoise.checkpoint_files import valid_checkpoint

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("bash") is None, reason="needs Linux's /proc and bash"
)
ROOT = Path(__file__).resolve().parents[2]

# The child builds a 4000x3000 photo (and, for the correction, its float32 noisy and "denoised" planes),
# then allows itself BUDGET MiB of address space more than it has and runs one function.
CHILD = r"""
import resource, sys
import numpy as np, torch
from nnkit.denoise.mean_correction import correct_means
from nnkit.denoise.out_of_memory import is_out_of_memory
from nnkit.denoise.sigma_estimate import estimate_sigma
from tests.denoise.test_mean_correction import whole_image_correction
from tests.denoise.test_sigma_estimate import whole_image_sigma
task, budget_mib = sys.argv[1], int(sys.argv[2])
h, w = 3000, 4000
rng = np.random.default_rng(0)
ramp = np.linspace(0, 255, w, dtype=np.float32)[None, :, None]
image = np.clip(ramp + rng.normal(0, 20, (h, w, 3)).astype(np.float32), 0, 255).round().astype(np.uint8)
noisy = torch.from_numpy(image).permute(2, 0, 1).float().div_(255)
denoised = noisy.clone()
run = {
    "sigma": lambda: estimate_sigma(image),
    "whole sigma": lambda: whole_image_sigma(torch.from_numpy(image).permute(2, 0, 1).double() / 255),
    "correction": lambda: float(correct_means(denoised, noisy, 20.0).mean()),
    "whole correction": lambda: float(whole_image_correction(denoised, noisy, 20.0, 48, 1).mean()),
}[task]
size_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmSize:"))
limit = (size_kib + budget_mib * 1024) * 1024
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
try:
    print(run())
except (MemoryError, RuntimeError) as exc:
    if not is_out_of_memory(exc):
        raise
    print("out of memory")
    sys.exit(3)
"""


def run_limited(task: str, budget_mib: int) -> subprocess.CompletedProcess[str]:
    # RLIMIT_AS counts address space reserved, not used: one malloc arena per thread (64 MiB reserved each)
    # would make the margin depend on which threads torch started; a single arena keeps it about the code.
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-c", CHILD, task, str(budget_mib)], capture_output=True, text=True, timeout=300, env=env,
        cwd=ROOT,
    )


@pytest.mark.parametrize(
    ("task", "budget_mib"),
    [
        ("sigma", 400),  # strips need a few MB; the whole-image estimator's float64 copies ~1.3 GB here
        ("correction", 550),  # the output (137 MiB) and 1.5 M-pixel strips (~330 MiB); whole channels need ~1 GB
    ],
)
def test_sigma_estimate_and_correction_of_a_12_megapixel_photo_fit_their_budget(task: str, budget_mib: int) -> None:
    done = run_limited(task, budget_mib)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    assert 0.0 <= float(done.stdout.strip()) < 256.0
    whole = run_limited(f"whole {task}", budget_mib)  # the limit binds: the whole-image version runs out
    assert whole.returncode == 3 and "out of memory" in whole.stdout, whole.stdout + whole.stderr[-2000:]


# ``denoise`` through bash's ``ulimit -v`` (KiB of address space), as a user would run it.
DENOISE = "import sys; from nnkit.denoise.cli import denoise_main; sys.exit(denoise_main(sys.argv[1:]))"
PEAK = (
    "import sys; from nnkit.denoise.cli import denoise_main; code = denoise_main(sys.argv[1:]); "
    "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak:'))); sys.exit(code)"
)


def test_a_photo_too_big_for_memory_is_one_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    ckpt = valid_checkpoint(tmp_path / "c.safetensors")
    ramp = np.linspace(0, 255, 5000, dtype=np.float32).astype(np.uint8)
    Image.fromarray(np.broadcast_to(ramp[None, :, None], (4000, 5000, 3)).copy()).save(tmp_path / "big.png")
    small = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    Image.fromarray(small).save(tmp_path / "small.png")
    # RLIMIT_AS counts address space reserved, not used: one malloc arena per thread (64 MiB reserved each)
    # would make the margin depend on which threads torch started; a single arena keeps it about the code.
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "1", "PATH": "/usr/bin:/bin"}
    common = ["--checkpoint", str(ckpt), "--device", "cpu"]
    # the small photo alone: its peak address space (imports, model, buffers) sets the limit
    alone = subprocess.run(
        [sys.executable, "-c", PEAK, str(tmp_path / "small.png"), "-o", str(tmp_path / "alone"), "-q", *common],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert alone.returncode == 0, alone.stderr
    # + 400 MiB: the big photo is read (60 MB, Pillow's copy 80 MB) and its float output (240 MB) is made, but
    # the first 1024² tile's activations do not fit: it fails at once, not after the network's whole run
    limit_kib = int(alone.stdout.split()[-1]) + 400 * 1024
    command = f"ulimit -v {limit_kib} && exec {sys.executable} -c '{DENOISE}' \"$@\""
    out = tmp_path / "out"
    files = [str(tmp_path / "big.png"), str(tmp_path / "small.png")]
    done = subprocess.run(
        ["bash", "-c", command, "denoise", *files, "-o", str(out), "--tile", "1024", *common],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "big.png: not enough memory to denoise this 5000 × 4000 photo" in errors[0], errors
    assert sorted(p.name for p in out.iterdir()) == ["small.png.denoised.png"]  # the next photo is written
    assert "denoised 1 of 2 image(s)" in done.stderr
