#!/usr/bin/env bash
# ResNet training and inference images/s, netosis vs PyTorch (torchvision, channels-last), on the
# celldeath method's 3×480×640 tiles, interleaved: ours (1 rank × THREADS threads), torch (THREADS
# intra-op threads), for PAIRS rounds. Prints a markdown table of medians; raw JSON in OUT.
#
#   bench/compare_resnet.sh [PAIRS] [THREADS] [BATCH]      (defaults 3 2 4; MODEL=resnet50)
#
# Environment: NETOSIS (binary), TORCH_PY (python with torch + torchvision, default
# /tmp/torch-venv/bin/python), MODEL (resnet18 | resnet34 | resnet50), ITERS (default 4), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
THREADS=${2:-2}
BATCH=${3:-4}
MODEL=${MODEL:-resnet50}
ITERS=${ITERS:-4}
NETOSIS=${NETOSIS:-.build/release/netosis}
TORCH_PY=${TORCH_PY:-/tmp/torch-venv/bin/python}
OUT=${OUT:-$(mktemp -d /tmp/compare-resnet.XXXXXX)}
mkdir -p "$OUT"
[ -x "$NETOSIS" ] || { echo "build netosis first (missing $NETOSIS)" >&2; exit 2; }
"$TORCH_PY" -c "import torch, torchvision" 2>/dev/null || { echo "no torch in $TORCH_PY (docs/neural.md)" >&2; exit 2; }
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else unset OPENBLAS_CORETYPE; fi
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

echo "results in $OUT; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$PAIRS"); do
  for mode in train infer; do
    "$NETOSIS" bench --model "$MODEL" --batch-size "$BATCH" --threads "$THREADS" --iterations "$ITERS" --warmup 1 \
      --mode "$mode" --json "$OUT/ours-$mode-$i.json" > "$OUT/ours-$mode-$i.txt" 2>&1
    "$TORCH_PY" bench/torch_resnet.py --model "$MODEL" --threads "$THREADS" --mode "$mode" --batch "$BATCH" \
      --iters "$ITERS" --warmup 1 > "$OUT/torch-$mode-$i.json"
  done
  echo "round $i/$PAIRS done — load $(cut -d' ' -f1 /proc/loadavg)" >&2
done

python3 - "$OUT" "$PAIRS" "$THREADS" "$BATCH" "$MODEL" <<'PY'
import json, statistics, sys
out, pairs, threads, batch, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
print(f"{model}, batch {batch}, 3x480x640, {threads} threads, {pairs} interleaved rounds (medians)")
print()
print("| measure | netosis | PyTorch | ratio | per round (ours / torch) |")
print("|---|---|---|---|---|")
for mode, key in (("train", "trainImagesPerSecond"), ("infer", "inferImagesPerSecond")):
    ours = [json.load(open(f"{out}/ours-{mode}-{i}.json"))[key] for i in range(1, pairs + 1)]
    torch = [json.load(open(f"{out}/torch-{mode}-{i}.json"))["img_per_s"] for i in range(1, pairs + 1)]
    o, t = statistics.median(ours), statistics.median(torch)
    rounds = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(ours, torch))
    print(f"| {'training' if mode == 'train' else 'inference'} (img/s) | {o:.2f} | {t:.2f} | {o / t:.2f}x | {rounds} |")
PY
