#!/usr/bin/env bash
# Train the blind shipped denoiser (Gaussian σ 0-50) by Noise2Noise with nnkit, then score it.
#
#   scripts/train_shipped.sh cpu [OUT]     # what produced the shipped checkpoint on the 2-core CPU VM: 18 epochs
#                                          # (18,432 steps, ~2 h on 2 threads) fine-tuning the first blind model
#                                          # (that run started with --epochs 20 and was resumed after epoch 2
#                                          # with --epochs 18; the README gives both commands)
#   scripts/train_shipped.sh cpu-v1 [OUT]  # that first blind model: 384 steps fine-tuning the earlier σ=25 model
#   scripts/train_shipped.sh n2c [OUT]     # the Noise2Clean twin of the cpu-v1 run (same schedule, clean targets)
#   scripts/train_shipped.sh gpu [OUT]     # from scratch, at the scale a GPU session allows (not run yet)
#
# The chain, oldest first: the σ=25 model of commit 9fa1080 -> cpu-v1 (shipped at e1d6a8f) -> cpu.
#
# The checkpoint is chosen by the validation photos only (checkpoint.best.safetensors); the test
# photos are scored afterwards by scripts/baselines.py and nothing is chosen on them.
set -euo pipefail
MODE=${1:-cpu}
OUT=${2:-runs/shipped-$MODE}
BLIND=(--arch unet --width 32 --noise gaussian --noise-level 0 --noise-level-max 50 --data builtin)

case "$MODE" in
  cpu)
    # Needs the first blind model: git show e1d6a8f:assets/checkpoints/shipped.safetensors
    INIT=${INIT:-runs/shipped_blind_v1.safetensors}
    [ -f "$INIT" ] || git show e1d6a8f:assets/checkpoints/shipped.safetensors > "$INIT"
    OMP_NUM_THREADS=${THREADS:-2} denoise-train "${BLIND[@]}" --init-from "$INIT" --target noisy \
      --crop-size 96 --batch-size 8 --epoch-size 8192 --epochs "${EPOCHS:-18}" \
      --lr 3e-4 --lr-schedule cosine --warmup-epochs 1 --lr-min 1e-5 --seed 2 --device cpu --score-photos --out "$OUT"
    ;;
  cpu-v1|n2c)
    # Needs the σ=25 checkpoint this one replaced: git show 9fa1080:assets/checkpoints/shipped.safetensors
    INIT=${INIT:-runs/shipped_sigma25.safetensors}
    [ -f "$INIT" ] || git show 9fa1080:assets/checkpoints/shipped.safetensors > "$INIT"
    TARGET=noisy; [ "$MODE" = n2c ] && TARGET=clean
    OMP_NUM_THREADS=${THREADS:-1} denoise-train "${BLIND[@]}" --init-from "$INIT" --target "$TARGET" \
      --crop-size 48 --batch-size 16 --epoch-size 512 --epochs "${EPOCHS:-14}" \
      --lr 3e-4 --lr-schedule cosine --warmup-epochs 1 --lr-min 1e-5 --seed 1 --device cpu --out "$OUT"
    ;;
  gpu)
    # From scratch: about 77k steps of 32 crops of 96x96 (the N2N paper trains on ~50k ImageNet photos;
    # here 36 photos, so augmentation and the σ range do the work; DEAD_LEAVES=0.2 mixes in dead leaves).
    denoise-train "${BLIND[@]}" --target noisy --crop-size 96 --batch-size 32 --epoch-size 8192 \
      --epochs "${EPOCHS:-300}" --lr 1e-3 --lr-schedule cosine --warmup-epochs 5 --lr-min 1e-5 \
      --dead-leaves-mix "${DEAD_LEAVES:-0}" --seed 0 --device cuda --out "$OUT"
    ;;
  *)
    echo "usage: $0 cpu|cpu-v1|n2c|gpu [OUT]" >&2
    exit 2
    ;;
esac
echo "score it: python scripts/baselines.py --checkpoint $OUT/checkpoint.best.safetensors"
