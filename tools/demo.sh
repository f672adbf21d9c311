#!/usr/bin/env bash
# The README's `make demo`: checks the stack on 2 MPI ranks, then runs the whole pipeline on the
# embedded synthetic plate set (written fresh by `netosis synth`, full ground truth): synth → segment →
# prepare → train (2 ranks) → evaluate → screen an unseen plate → counts vs truth → export tables →
# dose-response (EC50s) and clustering (ANND) analyses; the paper's other counters on the same unseen
# plate (the two-stage PL counter trained on small fields, the calibrated ImageJ rule) → the HTML
# report, with the three methods compared.
# Usage: tools/demo.sh BIN_DIR [OUT_DIR]
set -euo pipefail
BIN=${1:?usage: tools/demo.sh BIN_DIR [OUT_DIR]}
OUT=${2:-demo-out}
NETOSIS="$BIN/netosis"
step() { printf '\n== %s\n' "$*"; }
start=$(date +%s)

step "doctor on 2 MPI ranks: MPI, HDF5, libtiff, OpenBLAS kernels"
mpirun -np 2 "$NETOSIS" doctor

step "synth: 2 plates x 12 wells of 16-bit SYTOX-like images with ground truth → $OUT/plates"
mpirun -np 2 "$NETOSIS" synth --out "$OUT/plates" --seed 1 --plates 2 --wells 12 --overwrite

step "segment: every nucleus of every well → $OUT/objects.csv (marker coverage against the truth XML)"
mpirun -np 2 "$NETOSIS" segment --input "$OUT/plates/images" --annotations "$OUT/plates/annotations" \
    --out "$OUT/objects.csv" --overwrite

step "prepare: labelled 112x112 patches, split by well without leakage → $OUT/patches.h5"
mpirun -np 2 "$NETOSIS" prepare --images "$OUT/plates/images" --annotations "$OUT/plates/annotations" \
    --out "$OUT/patches.h5" --overwrite --split-by well --seed 1

step "patches.h5 as any HDF5 reader sees it"
h5ls -r "$OUT/patches.h5"

step "train: densenet-small, 3 epochs on 2 ranks (global batch 32, Adam) → $OUT/train (≈ 2 min)"
rm -rf "$OUT/train"   # a fresh run each time (train resumes from DIR otherwise)
mpirun -np 2 "$NETOSIS" train --data "$OUT/patches.h5" --model densenet-small --out "$OUT/train" --epochs 3 \
    --batch-size 32 --optimizer adam --lr 0.001 --lr-decay 0 --class-weights none --seed 1

step "evaluate: confusion matrix and per-class metrics on the test wells → $OUT/evaluate.json"
mpirun -np 2 "$NETOSIS" evaluate --checkpoint "$OUT/train/best.h5" --data "$OUT/patches.h5" --split test \
    --json "$OUT/evaluate.json" --overwrite | tee "$OUT/evaluate.txt"

step "synth: an unseen plate (another seed) to screen → $OUT/screen-plates"
mpirun -np 2 "$NETOSIS" synth --out "$OUT/screen-plates" --seed 2 --plates 1 --wells 12 --overwrite

step "screen: every nucleus of the unseen plate on 2 ranks, plate map kept → $OUT/results.h5"
mpirun -np 2 "$NETOSIS" screen --checkpoint "$OUT/train/best.h5" --input "$OUT/screen-plates/images" \
    --platemap "$OUT/screen-plates/platemap.csv" --out "$OUT/results.h5" --overwrite | tee "$OUT/screen.txt"

step "counts: per-image counts vs the synthetic truth (one marker per object) → $OUT/counts.json"
"$NETOSIS" counts --results "$OUT/results.h5" --annotations "$OUT/screen-plates/annotations" \
    --json "$OUT/counts.json" --overwrite | tee "$OUT/counts.txt"

step "export: per-image, per-well and per-object CSV with the plate map screen kept → $OUT/tables"
"$NETOSIS" export --results "$OUT/results.h5" --csv "$OUT/tables" --overwrite
head -n 4 "$OUT/tables/wells.csv"

step "analyze dose-response: 4PL per agonist, EC50 with 95% CI (truth: PMA 2 nM, A23187 0.9 uM) → $OUT/dose-response"
"$NETOSIS" analyze dose-response --results "$OUT/results.h5" --group-by agonist --out "$OUT/dose-response" --overwrite \
    | tee "$OUT/dose-response.txt"

step "analyze clustering: ANND of NETotic nuclei per tile, A23187 (clustered) vs PMA → $OUT/clustering"
"$NETOSIS" analyze clustering --results "$OUT/results.h5" --tiles 2x2 --min-per-tile 10 --compare A23187,PMA \
    --repetitions 20 --out "$OUT/clustering" --overwrite | tee "$OUT/clustering.txt"

step "PL counter, stage 1: 32x32 windows on the markers of 48 fields of 336x256 px (a 1344x1024 well is 4x4 of them) → $OUT/pl"
mpirun -np 2 "$NETOSIS" synth --out "$OUT/pl/fields" --seed 3 --plates 2 --wells 24 --width 336 --height 256 --overwrite
mpirun -np 2 "$NETOSIS" prepare --images "$OUT/pl/fields/images" --annotations "$OUT/pl/fields/annotations" \
    --out "$OUT/pl/points.h5" --mode point --patch-size 32 --negatives 30 --split-by well --seed 1 --overwrite
rm -rf "$OUT/pl/s1" "$OUT/pl/s2"
mpirun -np 2 "$NETOSIS" train --data "$OUT/pl/points.h5" --model pl-stage1-narrow --out "$OUT/pl/s1" --epochs 8 \
    --batch-size 32 --optimizer adam --lr 0.002 --lr-decay 0.002 --patience 0 --seed 1 | grep -E "^epoch 8/|^train: [0-9]+ steps"

step "PL counter, stage 2: stage 1's maps of every field, a sum-pooled counter trained on them (60 epochs, 2 ranks)"
mpirun -np 2 "$NETOSIS" maps --stage1 "$OUT/pl/s1/model.h5" --patches "$OUT/pl/points.h5" --out "$OUT/pl/maps.h5" \
    --border reflect --overwrite
# config/models/pl-stage2-pooled.yaml reads 672x512 fields; these are 336x256.
sed -e 's/^name: .*/name: pl-stage2-pooled-336x256/' -e 's/^input_size: .*/input_size: 256/' -e 's/^input_width: .*/input_width: 336/' \
    "$(dirname "$0")/../config/models/pl-stage2-pooled.yaml" > "$OUT/pl/stage2.yaml"
mpirun -np 2 "$NETOSIS" train --task count --data "$OUT/pl/maps.h5" --model "$OUT/pl/stage2.yaml" --out "$OUT/pl/s2" --epochs 60 \
    --batch-size 4 --optimizer adam --lr 0.003 --lr-decay 0.001 --patience 0 --seed 1 | grep -E "^epoch 60/"
"$NETOSIS" evaluate --checkpoint "$OUT/pl/s2/model.h5" --data "$OUT/pl/maps.h5" --split test | tail -n 3

step "screen --method pl: the unseen plate counted field by field (16 fields per well) → $OUT/pl-results.h5"
mpirun -np 2 "$NETOSIS" screen --method pl --checkpoint "$OUT/pl/s1/model.h5" --stage2 "$OUT/pl/s2/model.h5" \
    --input "$OUT/screen-plates/images" --platemap "$OUT/screen-plates/platemap.csv" --out "$OUT/pl-results.h5" --overwrite \
    | grep -E "screened"
"$NETOSIS" counts --results "$OUT/pl-results.h5" --annotations "$OUT/screen-plates/annotations" --overwrite \
    --json "$OUT/pl-counts.json" | tee "$OUT/pl-counts.txt"

step "ImageJ rule baseline: solidity threshold calibrated on the training wells, then screen --method rule → $OUT/rule-results.h5"
mpirun -np 2 "$NETOSIS" calibrate-rule --data "$OUT/patches.h5" --out "$OUT/rule.json" --overwrite
mpirun -np 2 "$NETOSIS" screen --method rule --checkpoint "$OUT/rule.json" --input "$OUT/screen-plates/images" \
    --platemap "$OUT/screen-plates/platemap.csv" --out "$OUT/rule-results.h5" --overwrite | grep -E "screened"
"$NETOSIS" counts --results "$OUT/rule-results.h5" --annotations "$OUT/screen-plates/annotations" --overwrite \
    --json "$OUT/rule-counts.json" | tee "$OUT/rule-counts.txt"

step "report: one self-contained HTML file (QC, plate heatmaps, curves, clustering, methods compared) → $OUT/report.html"
"$NETOSIS" report --results "$OUT/results.h5" "$OUT/pl-results.h5" "$OUT/rule-results.h5" \
    --annotations "$OUT/screen-plates/annotations" --out "$OUT/report.html" --overwrite

step "summary"
grep -E "^(class|other|non-NETotic|NETotic) |^accuracy" "$OUT/evaluate.txt" || true
grep -E "^(non-NETotic|NETotic) " "$OUT/counts.txt" | sed 's/^/count vs truth (OL):   /' || true
grep -E "^(non-NETotic|NETotic) " "$OUT/pl-counts.txt" | sed 's/^/count vs truth (PL):   /' || true
grep -E "^(non-NETotic|NETotic) " "$OUT/rule-counts.txt" | sed 's/^/count vs truth (rule): /' || true
grep -E "image\(s\) screened" "$OUT/screen.txt" || true
grep -E "^  agonist=|vs PMA" "$OUT/dose-response.txt" "$OUT/clustering.txt" | sed 's/^[^:]*: *//' || true
printf '\ndemo: done in %d s; outputs in %s/; open %s/report.html in a browser\n' $(( $(date +%s) - start )) "$OUT" "$OUT"
