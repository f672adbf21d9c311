#!/usr/bin/env bash
# `make demo-celldeath`: the celldeath method (La Greca et al. 2021) on a small synthetic
# transmitted-light set with known truth, on 2 MPI ranks: synth-celldeath → tiles (experiment e3
# held out) → train a ResNet-18 with fastai's head (the paper's recipe, shortened) → evaluate tiles
# and whole images → Grad-CAM over test tiles → screen unseen photographs → the HTML report. A few minutes on 2 cores.
# Usage: tools/demo-celldeath.sh BIN_DIR [OUT_DIR]
set -euo pipefail
BIN=${1:?usage: tools/demo-celldeath.sh BIN_DIR [OUT_DIR]}
OUT=${2:-demo-out/celldeath}
NETOSIS="$BIN/netosis"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
step() { printf '\n== %s\n' "$*"; }
start=$(date +%s)
mkdir -p "$OUT"

step "synth-celldeath: 7 cell-line styles x control/CPT x 3 experiments x 3 photographs (320x240 RGB), half of treated cells altered, lamp level within 2% between experiments (docs/celldeath.md: larger shifts need more data) → $OUT/images"
mpirun -np 2 "$NETOSIS" synth-celldeath --out "$OUT/images" --width 320 --height 240 --experiments 3 --images 3 \
    --altered 0.5 --illumination-sd 0.02 --seed 7 --overwrite
head -n 4 "$OUT/images/truth.csv"

step "tiles: 2x2 tiles per image, class from the name, experiment e3 held out as test, 30% of the rest validation → $OUT/tiles.h5"
mpirun -np 2 "$NETOSIS" tiles --input "$OUT/images" --out "$OUT/tiles.h5" --tiles 4 \
    --fields line,treatment,time,experiment,index --label-field treatment --classes control,CPT \
    --test experiment=e3 --overwrite
h5ls "$OUT/tiles.h5"

step "train: celldeath-resnet18 (fastai head) from scratch on 2 ranks, the paper's recipe shortened to 8 epochs (AdamW, one-cycle, rates 1e-4…1e-3 by layer group) → $OUT/train"
rm -rf "$OUT/train"
mpirun -np 2 "$NETOSIS" train --config "$ROOT/config/train/celldeath.yaml" --model celldeath-resnet18 --epochs 8 \
    --data "$OUT/tiles.h5" --out "$OUT/train"

step "evaluate: tiles and whole images of the held-out experiment (mean tile probability, vote), per cell line → $OUT/predictions.h5"
mpirun -np 2 "$NETOSIS" evaluate --checkpoint "$OUT/train/best.h5" --data "$OUT/tiles.h5" --batch-size 16 \
    --json "$OUT/evaluate.json" --predictions "$OUT/predictions.h5" --overwrite

step "saliency: Grad-CAM of the last stage over 6 test tiles (tile | map | overlay) → $OUT/cam"
"$NETOSIS" saliency --checkpoint "$OUT/train/best.h5" --patches "$OUT/tiles.h5" --limit 6 --method grad-cam \
    --out "$OUT/cam.h5" --png "$OUT/cam" --overwrite

step "screen: new photographs (another seed, one experiment) called straight from the images, 4 tiles each → $OUT/screen.h5"
mpirun -np 2 "$NETOSIS" synth-celldeath --out "$OUT/unseen" --width 320 --height 240 --experiments 1 --images 2 \
    --altered 0.5 --illumination-sd 0.02 --seed 8 --overwrite
mpirun -np 2 "$NETOSIS" screen --checkpoint "$OUT/train/best.h5" --input "$OUT/unseen" --tiles 4 --classes control,CPT \
    --out "$OUT/screen.h5" --overwrite

step "report: confusion matrices, precision/recall, accuracy per line, training history → $OUT/report.html"
"$NETOSIS" report --results "$OUT/predictions.h5" --out "$OUT/report.html" --overwrite

printf '\ndemo-celldeath: done in %d s; open %s\n' "$(( $(date +%s) - start ))" "$OUT/report.html"
