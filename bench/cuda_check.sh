#!/usr/bin/env bash
# The device checks of issues 2 and 5 in one prepared run (for a session that has a GPU):
# CUDA equality tests of the layers, the engine and the CUDA-graph step, then the step benchmark
# on CUDA with and without the graph. Writes bench-cuda.json under $OUT (or the current folder).
set -uo pipefail
out="${OUT:-.}"
python -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
python -m pytest -q -p no:cacheprovider tests/nnkit/test_layers_cuda.py tests/nnkit/test_graph.py \
    tests/denoise/test_engine_cuda.py 2>&1 | tail -5
timeout 420 python -m bench.step --device cuda --graph --reps 30 --warmup 5 --out "$out/bench-cuda.json"
