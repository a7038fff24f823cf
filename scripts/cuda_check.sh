#!/usr/bin/env bash
# The device checks of issues 2, 3 and 5 in one prepared run (for a session that has a GPU):
# the library and engine tests (CUDA equality, the CUDA-graph step) on the GPU, the step benchmark on
# CUDA with and without the graph in full FP32 and in TF32, profiles of two points, the CLI training on
# CUDA with both engines, and denoising a 3840x2160 photo on CUDA. Writes its JSON under $OUT.
set -uo pipefail
out="${OUT:-.}"
py="${PYTHON:-python3}"
dev="${DEVICE:-cuda}"
export PYTHONUNBUFFERED=1
TIMEFORMAT="  (%R s wall for the whole command)"
run() { echo; echo "== $*"; }
cli=(-c "import sys; from nnkit.denoise import cli; sys.exit(getattr(cli, sys.argv[1])(sys.argv[2:]))")

run machine
"$py" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader

run "tests on the GPU machine (no Qt there: library, engine, bench)"
timeout 240 "$py" -m pytest -q -p no:cacheprovider -n 8 tests/nnkit tests/denoise tests/denoise/bench tests/test_readme.py 2>&1 | tail -15

run "step benchmark, full FP32 on both sides: both eager, nnkit graphed, both graphed"
timeout 240 "$py" -m nnkit.denoise.bench.step --device "$dev" --graph --torch-graph --reps 30 --warmup 5 --out "$out/bench-cuda.json"

run "step benchmark, TF32 on both sides"
timeout 150 "$py" -m nnkit.denoise.bench.step --device "$dev" --graph --tf32 --reps 20 --warmup 5 --out "$out/bench-cuda-tf32.json"

run "profiles (eager, FP32)"
timeout 60 "$py" -m nnkit.denoise.bench.profile_step --device "$dev" --arch unet --width 32 --batch 100 --top 12
timeout 60 "$py" -m nnkit.denoise.bench.profile_step --device "$dev" --arch report --width 64 --batch 1000 --top 12

run "denoise-train on CUDA, 3 default epochs, each engine"
for engine in nnkit torch; do
    echo "engine $engine:"
    time timeout 120 "$py" "${cli[@]}" train_main --device "$dev" --epochs "${EPOCHS:-3}" --engine "$engine" \
        --quiet --out "/tmp/train-$engine" ${TRAIN_EXTRA:-}
done

run "denoise a 3840x2160 photo on CUDA with the shipped checkpoint"
"$py" -c "import numpy as np; from PIL import Image; \
Image.fromarray(np.random.default_rng(0).integers(0, 256, (${BIG:-2160, 3840}, 3), dtype=np.uint8)).save('/tmp/big.png')"
rm -rf /tmp/denoised
time timeout 120 "$py" "${cli[@]}" denoise_main /tmp/big.png --device "$dev" -o /tmp/denoised --quiet
