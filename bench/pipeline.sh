#!/usr/bin/env bash
# The issue-9 and issue-10 benchmarks in one run (docs/benchmarks.md "Training loop" and "Screening"):
#  * densenet121 batch 32 through `netosis train` (loader, augmentation, all-reduce, validation and
#    checkpoints included) at 1 rank × 2 threads and 2 ranks × 1 thread, next to `netosis bench` on the
#    same layouts and PyTorch's train_cl;
#  * `netosis screen` end to end (read, segment, classify, write) on full-size 4032×3072 synthetic wells
#    with densenet121 and densenet-small at 1 and 2 ranks, next to PyTorch's inference-only rate.
# Usage: bench/pipeline.sh NETOSIS [OUT_DIR] (TORCH_PY, default /tmp/torch-venv/bin/python, optional)
set -euo pipefail
N=${1:?usage: bench/pipeline.sh NETOSIS [OUT_DIR]}
OUT=${2:-/tmp/netosis-pipeline-bench}
TORCH_PY=${TORCH_PY:-/tmp/torch-venv/bin/python}
TORCH_BENCH=${TORCH_BENCH:-$(dirname "$0")/../../shared/bench/torch_densenet.py}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
load() { cut -d' ' -f1 /proc/loadavg; }
one() { OPENBLAS_NUM_THREADS=2 mpirun -np 1 --bind-to none "$N" "$@"; }
two() { OPENBLAS_NUM_THREADS=1 mpirun -np 2 "$N" "$@"; }
echo "pipeline bench: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Patches for the training loop: 4 small synthetic wells, one of them for validation (≈ 1400
# training patches of 112×112, 44 steps of 32 per epoch; the epoch's rate includes validating ≈ 470
# patches and writing a 28 MB checkpoint, as every real epoch does).
[ -d "$OUT/train-plate" ] || two synth --out "$OUT/train-plate" --seed 5 --plates 1 --wells 4 > /dev/null
[ -f "$OUT/patches.h5" ] || two prepare --images "$OUT/train-plate/images" --annotations "$OUT/train-plate/annotations" \
    --out "$OUT/patches.h5" --split-by well --seed 1 --val-fraction 0.25 --test-fraction 0 > /dev/null
train() {  # label launcher
  rm -rf "$OUT/train-$1"
  local line; line=$($2 train --data "$OUT/patches.h5" --model densenet121 --out "$OUT/train-$1" --epochs 2 --batch-size 32 \
      --optimizer sgd --lr 0.001 --seed 1 --class-weights none 2>&1 | tee "$OUT/train-$1.log" | grep -E "^epoch 2/2" || true)
  echo "train $1 (load $(load)): $line"
  grep -E "all-reduce|peak RSS" "$OUT/train-$1.log" | sed "s/^/  /"
}
train 1x2 one
train 2x1 two
echo "bench 1x2 (load $(load)): $(OPENBLAS_NUM_THREADS=2 "$N" bench --model densenet121 --batch-size 32 --threads 2 --mode train 2>&1 | grep -iE "training.*img/s|images/s" | head -2 | tr '\n' ' ')"
echo "bench 2x1 (load $(load)): $(two bench --model densenet121 --batch-size 32 --threads 1 --mode train 2>&1 | grep -iE "training.*img/s|images/s" | head -2 | tr '\n' ' ')"
if [ -x "$TORCH_PY" ] && [ -r "$TORCH_BENCH" ] && "$TORCH_PY" -c "import torchvision.models" 2>/dev/null; then
  for mode in train_cl infer_cl_im; do
    echo "torch $mode 2 threads (load $(load)): $(NO_WAIT_IDLE=1 OMP_NUM_THREADS=2 "$TORCH_PY" "$TORCH_BENCH" one --model densenet121 --threads 2 --mode $mode --batch 32 --iters 8 2>/dev/null | tail -1)"
  done
elif [ -x "$TORCH_PY" ]; then   # torchvision missing or broken: the same network in plain torch
  echo "torch 2 threads (load $(load)): $(OMP_NUM_THREADS=2 "$TORCH_PY" "$(dirname "$0")/torch_rates.py" --threads 2 --batch 32 --iters 8 2>&1 | tail -1)"
fi

# Screening: 2 full-size wells.
[ -d "$OUT/wells" ] || two synth --out "$OUT/wells" --seed 6 --plates 1 --wells 2 --full-size > /dev/null
for model in densenet121 densenet-small; do
  ck="$OUT/train-1x2/best.h5"
  if [ "$model" = densenet-small ]; then
    rm -rf "$OUT/train-small"
    two train --data "$OUT/patches.h5" --model densenet-small --out "$OUT/train-small" --epochs 1 --batch-size 32 --seed 1 > /dev/null
    ck="$OUT/train-small/best.h5"
  fi
  for layout in 1x2 2x1; do
    launcher=one; [ $layout = 2x1 ] && launcher=two
    echo "screen $model $layout (load $(load)):"
    $launcher screen --checkpoint "$ck" --input "$OUT/wells/images" --out "$OUT/results-$model-$layout.h5" --overwrite 2>/dev/null \
      | grep -E "screened|time per stage|objects:" | sed 's/^/  /'
  done
done
echo "done: load $(cut -d' ' -f1-3 /proc/loadavg)"
