#!/usr/bin/env bash
# Interleaved throughput comparison: netosis vs PyTorch (torchvision DenseNet, channels-last),
# same model, batch, input (3×112×112), thread count; A B A B ... for PAIRS pairs.
#
#   bench/compare_torch.sh [PAIRS] [THREADS] [BATCH]
#
# Environment: NETOSIS (binary, default .build/release/netosis), TORCH_PY (python with torch and
# torchvision, default /tmp/torch-venv/bin/python), TORCH_BENCH (default ../shared/bench/torch_densenet.py),
# MODEL (default densenet121), ITERS (timed iterations per run, default 8), OUT (results dir).
# Prints a markdown table of medians over pairs and the ratios ours/torch; raw JSON is kept in OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
PAIRS=${1:-3}
THREADS=${2:-2}
BATCH=${3:-32}
MODEL=${MODEL:-densenet121}
ITERS=${ITERS:-8}
NETOSIS=${NETOSIS:-.build/release/netosis}
TORCH_PY=${TORCH_PY:-/tmp/torch-venv/bin/python}
TORCH_BENCH=${TORCH_BENCH:-../shared/bench/torch_densenet.py}
OUT=${OUT:-$(mktemp -d /tmp/compare-torch.XXXXXX)}
mkdir -p "$OUT"

[ -x "$NETOSIS" ] || { echo "build netosis first: swift build -c release (missing $NETOSIS)" >&2; exit 2; }
"$TORCH_PY" -c "import torch, torchvision" 2>/dev/null || {
  echo "no torch in $TORCH_PY: python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch torchvision h5py numpy" >&2; exit 2; }
[ -f "$TORCH_BENCH" ] || { echo "missing $TORCH_BENCH" >&2; exit 2; }

# Same kernels and threads for both: OpenBLAS AVX-512 kernels for us (netosis would pick them
# itself), the thread count for torch's intra-op pool; no idle-waiting (we do not wait either).
export OPENBLAS_CORETYPE=SkylakeX OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS NO_WAIT_IDLE=1

ours() {   # mode pair
  "$NETOSIS" bench --model "$MODEL" --batch-size "$BATCH" --input-channels 3 --threads "$THREADS" \
    --iterations "$ITERS" --warmup 2 --mode "$1" --json "$OUT/ours-$1-$2.json" > "$OUT/ours-$1-$2.txt" 2>&1
}
torch() {  # mode pair
  "$TORCH_PY" "$TORCH_BENCH" one --model "$MODEL" --threads "$THREADS" --mode "$1" --batch "$BATCH" \
    --iters "$ITERS" 2> "$OUT/torch-$1-$2.err" | tail -1 > "$OUT/torch-$1-$2.json"
}

echo "results in $OUT; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$PAIRS"); do
  echo "pair $i/$PAIRS: train (ours, torch train_cl), inference (ours, torch infer_cl_im) — load $(cut -d' ' -f1 /proc/loadavg)" >&2
  ours train "$i";  torch train_cl "$i"
  ours infer "$i";  torch infer_cl_im "$i"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$OUT" "$PAIRS" "$THREADS" "$BATCH" "$MODEL" <<'PY'
import json, statistics, sys, os
out, pairs, threads, batch, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def get(path, key):
    with open(path) as f: return json.load(f)[key]
rows = {}
for i in range(1, pairs + 1):
    rows.setdefault("train_ours", []).append(get(f"{out}/ours-train-{i}.json", "trainImagesPerSecond"))
    rows.setdefault("train_torch", []).append(get(f"{out}/torch-train_cl-{i}.json", "img_per_s"))
    rows.setdefault("infer_ours", []).append(get(f"{out}/ours-infer-{i}.json", "inferImagesPerSecond"))
    rows.setdefault("infer_torch", []).append(get(f"{out}/torch-infer_cl_im-{i}.json", "img_per_s"))
    rows.setdefault("rss_ours", []).append(get(f"{out}/ours-train-{i}.json", "trainPeakRSSMB"))
    rows.setdefault("rss_torch", []).append(get(f"{out}/torch-train_cl-{i}.json", "rss_peak_mb"))
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{model}, batch {batch}, {threads} threads, 3x112x112, {pairs} interleaved pairs (medians over pairs; each run is itself a median)")
print()
print("| measure | netosis | PyTorch (channels-last) | ratio | per pair (ours / torch) |")
print("|---|---|---|---|---|")
for name, a, b, unit in [("training", "train_ours", "train_torch", "img/s"), ("inference", "infer_ours", "infer_torch", "img/s"),
                         ("training peak RSS", "rss_ours", "rss_torch", "MB")]:
    pairs_txt = ", ".join(f"{x:.1f}/{y:.1f}" for x, y in zip(rows[a], rows[b]))
    print(f"| {name} ({unit}) | {med[a]:.1f} | {med[b]:.1f} | {med[a]/med[b]:.2f}x | {pairs_txt} |")
PY
