#!/usr/bin/env bash
# The celldeath accuracy table on a synthetic transmitted-light set of moderate difficulty
# (docs/celldeath.md "Accuracy"): ResNet-18 and ResNet-50 (fastai head, the paper's recipe from
# scratch) on all seven lines with experiment e3 held out; a one-line model; leave one line out.
# Writes OUT/accuracy.csv and prints a markdown table. About 45 min on 2 cores.
# Use: bench/celldeath_accuracy.sh [OUT]   (NETOSIS=path/to/netosis to use another binary)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${NETOSIS:-$ROOT/.build/release/netosis}
OUT=${1:-/tmp/celldeath-accuracy}
EPOCHS=${EPOCHS:-15}
ALTERED=${ALTERED:-0.2}
mkdir -p "$OUT"
FIELDS=(--fields line,treatment,time,experiment,index --label-field treatment --classes control,CPT)
RECIPE=(--config "$ROOT/config/train/celldeath.yaml" --epochs "$EPOCHS")

"$N" synth-celldeath --out "$OUT/images" --width 320 --height 240 --experiments 3 --images 4 --altered "$ALTERED" --seed 11

run() {   # name, model, tiles arguments...
    local name=$1 model=$2; shift 2
    [ -f "$OUT/$name.json" ] && return 0
    "$N" tiles --input "$OUT/images" --out "$OUT/$name.h5" --overwrite "${FIELDS[@]}" "$@"
    rm -rf "$OUT/run-$name"
    "$N" train "${RECIPE[@]}" --model "$model" --data "$OUT/$name.h5" --out "$OUT/run-$name" > "$OUT/$name.train.log" 2>&1
    "$N" evaluate --checkpoint "$OUT/run-$name/best.h5" --data "$OUT/$name.h5" --batch-size 16 --json "$OUT/$name.json" --overwrite \
        | tee "$OUT/$name.evaluate.txt"
}

run all-resnet18 celldeath-resnet18 --test experiment=e3
run all-resnet50 celldeath-resnet50 --test experiment=e3
run cobble-resnet18 celldeath-resnet18 --only line=cobble --test experiment=e3
for line in cobble spindle polygon smallround flat cluster resistant; do
    run "lolo-$line" celldeath-resnet18 --test "line=$line"
done

python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = ["name,tiles,tile_accuracy,images,image_accuracy_mean,image_accuracy_vote,best_val_loss_epoch"]
for name in sorted(n[:-5] for n in os.listdir(out) if n.endswith(".json")):
    r = json.load(open(os.path.join(out, name + ".json")))
    i = r["imageLevel"]
    hist = open(os.path.join(out, "run-" + name, "history.csv")).read().splitlines()
    head = hist[0].split(","); vl = head.index("val_loss")
    best = min(range(1, len(hist)), key=lambda k: float(hist[k].split(",")[vl]))
    rows.append(f'{name},{r["samples"]},{r["accuracy"]:.3f},{i["images"]},{i["meanProbability"]["accuracy"]:.3f},{i["vote"]["accuracy"]:.3f},{best}')
open(os.path.join(out, "accuracy.csv"), "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
