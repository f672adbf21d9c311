#!/usr/bin/env bash
# 5-fold cross-validation by image on the real sample (../shared/data/netosis-sample, 27 fields): for each
# fold, `prepare --folds 5 --fold k` (that fold's ~5 images are test, 4 others val), then per seed
# `netosis train` on 2 ranks with a recipe + `netosis evaluate` on the test images, and the PyTorch
# reference (bench/torch_train_patches.py) on the same patches with the same recipe. One row per run in
# OUT/runs.tsv; a mean ± sd summary per system at the end. docs/benchmarks.md "OL model on the real sample".
# Usage: bench/sample_cv.sh NETOSIS [OUT] [SEEDS] [RECIPE]
#   RECIPE: a train YAML (default config/train/sample.yaml); TORCH_PY (default /tmp/torch-venv/bin/python,
#   "none" skips PyTorch); TORCH_ARGS: its recipe flags (default: the same as sample.yaml); TORCH_FOLDS: the
#   folds PyTorch runs for seeds after the first (default all; PyTorch takes ≈ 2× our time per run).
set -euo pipefail
N=$(realpath "${1:?usage: bench/sample_cv.sh NETOSIS [OUT] [SEEDS] [RECIPE]}")
OUT=${2:-/tmp/netosis-sample-cv}; SEEDS=${3:-"1 2 3"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RECIPE=$(realpath "${4:-$ROOT/config/train/sample.yaml}")
SAMPLE=$(cd "$ROOT/../shared/data/netosis-sample" && pwd)
TORCH_PY=${TORCH_PY:-/tmp/torch-venv/bin/python}
TORCH_ARGS=${TORCH_ARGS:-"--growth 12 --blocks 6,12,8 --init-features 32 --epochs 20 --optimizer adam --lr 1e-3 --weight-decay 1e-4 --lr-decay 0.002 --class-weights auto --patience 8"}
PATCH=${PATCH:-64}
TORCH_FOLDS=${TORCH_FOLDS:-"0 1 2 3 4"}
FIRST_SEED=${SEEDS%% *}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
RUNS="$OUT/runs.tsv"
[ -f "$RUNS" ] || printf 'system\tfold\tseed\ttest_n\taccuracy\tbalanced\trecall_other\trecall_non\trecall_net\tseconds\n' > "$RUNS"
cd "$ROOT"
for k in 0 1 2 3 4; do
  P="$OUT/patches-p$PATCH-fold$k.h5"
  [ -f "$P" ] || "$N" prepare --images "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out "$P" \
      --split-by image --folds 5 --fold "$k" --val-fraction 0.15 --seed 7 --patch-size "$PATCH" \
      --segmentation config/segmentation.yaml | tail -n 2
done
# Seeds outer, folds inner: a run cut short still covers every fold.
for s in $SEEDS; do
  for k in 0 1 2 3 4; do
    P="$OUT/patches-p$PATCH-fold$k.h5"
    run="$OUT/$(basename "$RECIPE" .yaml)/f$k-s$s"
    mkdir -p "$(dirname "$run")"
    if ! grep -q "^netosis	$k	$s	" "$RUNS"; then
      t0=$(date +%s)
      [ -f "$run.json" ] || mpirun -np 2 "$N" train --config "$RECIPE" --data "$P" --out "$run" --seed "$s" --resume never > "$run.log" 2>&1 \
        || { echo "train failed: $run.log"; tail -5 "$run.log"; exit 1; }
      t1=$(date +%s)
      [ -f "$run.json" ] || "$N" evaluate --checkpoint "$run/best.h5" --data "$P" --split test --json "$run.json" --overwrite > /dev/null
      python3 - "$run.json" "$k" "$s" "$((t1 - t0))" >> "$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rec = [v if v is not None else float("nan") for v in r["recall"]]
print("netosis", sys.argv[2], sys.argv[3], r["samples"], r["accuracy"], r["balancedAccuracy"], *rec, sys.argv[4], sep="\t")
EOF
      tail -n 1 "$RUNS"
    fi
    torch_here=no; { [ "$s" = "$FIRST_SEED" ] || [[ " $TORCH_FOLDS " == *" $k "* ]]; } && torch_here=yes
    if [ "$TORCH_PY" != none ] && [ $torch_here = yes ] && ! grep -q "^pytorch	$k	$s	" "$RUNS"; then
      # shellcheck disable=SC2086
      "$TORCH_PY" bench/torch_train_patches.py "$P" $TORCH_ARGS --seed "$s" > "$OUT/torch-f$k-s$s.json"
      python3 - "$OUT/torch-f$k-s$s.json" "$k" "$s" >> "$RUNS" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print("pytorch", sys.argv[2], sys.argv[3], r["test_n"], r["test_accuracy"], r["test_balanced_accuracy"], *r["test_recall"], r["seconds"], sep="\t")
EOF
      tail -n 1 "$RUNS"
    fi
  done
done
# Mean ± sd over folds of the per-fold mean over seeds (folds are the unit of variation).
python3 - "$RUNS" <<'EOF'
import csv, statistics as st, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for system in sorted({r["system"] for r in rows}):
    mine = [r for r in rows if r["system"] == system]
    print(f"{system}: {len(mine)} runs")
    for key in ["accuracy", "balanced", "recall_other", "recall_non", "recall_net"]:
        folds = defaultdict(list)
        for r in mine: folds[r["fold"]].append(float(r[key]))
        means = [st.mean(v) for v in folds.values()]
        sd = st.stdev(means) if len(means) > 1 else 0
        print(f"  {key:13s} {100 * st.mean(means):5.1f} ± {100 * sd:4.1f} %  (folds {' '.join(f'{100 * m:.0f}' for m in means)})")
    # The same split with several seeds: the seed-to-seed spread of one fold.
    for fold in sorted({r["fold"] for r in mine}):
        runs = [r for r in mine if r["fold"] == fold]
        if len(runs) < 2: continue
        cells = []
        for key in ["accuracy", "balanced", "recall_other"]:
            v = [100 * float(r[key]) for r in runs]
            cells.append(f"{key} {st.mean(v):.1f} ± {st.stdev(v):.1f}")
        print(f"  fold {fold}, {len(runs)} seeds: " + ", ".join(cells))
EOF
