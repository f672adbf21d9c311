#!/usr/bin/env bash
# Interleaved throughput comparison: netosis vs PyTorch (torchvision DenseNet, channels-last),
# same model, batch, input (3×112×112) and cores; A B A B ... for PAIRS rounds.
# netosis runs twice per round: one rank with THREADS threads (one model replica each), and THREADS ranks with one
# thread each (mpirun, gradients all-reduced every step as in data-parallel training; the batch
# is split over ranks). PyTorch runs with THREADS intra-op threads.
#
#   bench/compare_torch.sh [PAIRS] [THREADS] [BATCH]
#
# Environment: NETOSIS (binary, default .build/release/netosis), TORCH_PY (python with torch and
# torchvision, default /tmp/torch-venv/bin/python), TORCH_BENCH (default ../shared/bench/torch_densenet.py),
# MODEL (default densenet121), ITERS (timed iterations per run, default 8), OUT (results dir),
# IDLE_WAIT (seconds to wait, before every run, for the machine to be < 7.5 % busy as
# torch_densenet.py's wait_idle does; default 60, 0 = do not wait).
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
# (SkylakeX only where the CPU has AVX-512: forcing it elsewhere would fault.)
if grep -q avx512f /proc/cpuinfo; then export OPENBLAS_CORETYPE=SkylakeX; else unset OPENBLAS_CORETYPE; fi
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS NO_WAIT_IDLE=1

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
IDLE_WAIT=${IDLE_WAIT:-60}
wait_idle() {   # same rule as torch_densenet.py's wait_idle, applied before each run of either side
  [ "$IDLE_WAIT" -gt 0 ] || return 0
  python3 - "$IDLE_WAIT" <<'PY'
import sys, time
def stat():
    v = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    b0, t0 = stat(); time.sleep(0.5); b1, t1 = stat()
    if t1 > t0 and (b1 - b0) / (t1 - t0) < 0.075:
        sys.exit(0)
print("compare_torch: machine not idle; measuring anyway", file=sys.stderr)
PY
}
ours() {   # mode pair
  wait_idle
  "$NETOSIS" bench --model "$MODEL" --batch-size "$BATCH" --input-channels 3 --threads "$THREADS" \
    --iterations "$ITERS" --warmup 2 --mode "$1" --json "$OUT/ours-$1-$2.json" > "$OUT/ours-$1-$2.txt" 2>&1
}
ranks() {  # mode pair: THREADS ranks × 1 thread
  wait_idle
  mpirun -np "$THREADS" --bind-to none "$NETOSIS" bench --model "$MODEL" --batch-size "$BATCH" --input-channels 3 \
    --threads 1 --iterations "$ITERS" --warmup 2 --mode "$1" --json "$OUT/ranks-$1-$2.json" > "$OUT/ranks-$1-$2.txt" 2>&1
}
torch() {  # mode pair
  wait_idle
  "$TORCH_PY" "$TORCH_BENCH" one --model "$MODEL" --threads "$THREADS" --mode "$1" --batch "$BATCH" \
    --iters "$ITERS" 2> "$OUT/torch-$1-$2.err" | tail -1 > "$OUT/torch-$1-$2.json"
}

echo "results in $OUT; load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for i in $(seq 1 "$PAIRS"); do
  echo "round $i/$PAIRS: train (1 rank, torch train_cl, $THREADS ranks), inference (1 rank, torch infer_cl_im, $THREADS ranks) — load $(cut -d' ' -f1 /proc/loadavg)" >&2
  ours train "$i";  torch train_cl "$i";  ranks train "$i"
  ours infer "$i";  torch infer_cl_im "$i";  ranks infer "$i"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$OUT" "$PAIRS" "$THREADS" "$BATCH" "$MODEL" <<'PY'
import json, statistics, sys, os
out, pairs, threads, batch, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def get(path, key):
    with open(path) as f: return json.load(f)[key]
rows = {}
def add(key, value): rows.setdefault(key, []).append(value)
for i in range(1, pairs + 1):
    for who in ("ours", "ranks"):
        add(f"train_{who}", get(f"{out}/{who}-train-{i}.json", "trainImagesPerSecond"))
        add(f"infer_{who}", get(f"{out}/{who}-infer-{i}.json", "inferImagesPerSecond"))
        add(f"rss_{who}", get(f"{out}/{who}-train-{i}.json", "trainPeakRSSMB"))
        add(f"fgt_{who}", get(f"{out}/{who}-train-{i}.json", "foreignCoresTrain"))
        add(f"fgi_{who}", get(f"{out}/{who}-infer-{i}.json", "foreignCoresInfer"))
    add("train_torch", get(f"{out}/torch-train_cl-{i}.json", "img_per_s"))
    add("infer_torch", get(f"{out}/torch-infer_cl_im-{i}.json", "img_per_s"))
    add("rss_torch", get(f"{out}/torch-train_cl-{i}.json", "rss_peak_mb"))
    add("fgt_torch", get(f"{out}/torch-train_cl-{i}.json", "foreign_cores"))
    add("fgi_torch", get(f"{out}/torch-infer_cl_im-{i}.json", "foreign_cores"))
med = {k: statistics.median(v) for k, v in rows.items()}
print(f"{model}, batch {batch}, 3x112x112, {threads} cores, {pairs} interleaved rounds (median over rounds; each run is itself a median)")
print(f"A = netosis 1 rank x {threads} threads, B = netosis {threads} ranks x 1 thread (gradients all-reduced), T = PyTorch channels-last, {threads} threads")
print()
print("| measure | A | B | T | A/T | B/T | per round A / B / T | other processes' load, cores (A / B / T, median) |")
print("|---|---|---|---|---|---|---|---|")
for name, key, unit, fg in [("training", "train", "img/s", "fgt"), ("inference", "infer", "img/s", "fgi"),
                            ("training peak RSS", "rss", "MB", "fgt")]:
    a, b, t = rows[f"{key}_ours"], rows[f"{key}_ranks"], rows[f"{key}_torch"]
    per = ", ".join(f"{x:.1f}/{y:.1f}/{z:.1f}" for x, y, z in zip(a, b, t))
    load = f"{med[fg+'_ours']:.2f} / {med[fg+'_ranks']:.2f} / {med[fg+'_torch']:.2f}"
    print(f"| {name} ({unit}) | {med[key+'_ours']:.1f} | {med[key+'_ranks']:.1f} | {med[key+'_torch']:.1f} | "
          f"{med[key+'_ours']/med[key+'_torch']:.2f}x | {med[key+'_ranks']/med[key+'_torch']:.2f}x | {per} | {load} |")
print()
print("RSS of B is the sum over its ranks.")
PY
