#!/usr/bin/env bash
# The README's `make demo`: checks the stack on 2 MPI ranks, then runs the whole pipeline on the
# embedded synthetic plate set (written fresh by `netosis synth`, full ground truth): synth → segment →
# prepare → train (2 ranks) → evaluate → screen an unseen plate → counts vs truth → export tables →
# dose-response (EC50s) and clustering (ANND) analyses → the HTML report.
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

step "report: one self-contained HTML file (QC, plate heatmaps, curves, clustering) → $OUT/report.html"
"$NETOSIS" report --results "$OUT/results.h5" --annotations "$OUT/screen-plates/annotations" --out "$OUT/report.html" --overwrite

step "summary"
grep -E "^(class|other|non-NETotic|NETotic) |^accuracy" "$OUT/evaluate.txt" || true
grep -E "^(non-NETotic|NETotic) " "$OUT/counts.txt" | sed 's/^/count vs truth: /' || true
grep -E "image\(s\) screened" "$OUT/screen.txt" || true
grep -E "^  agonist=|vs PMA" "$OUT/dose-response.txt" "$OUT/clustering.txt" | sed 's/^[^:]*: *//' || true
printf '\ndemo: done in %d s; outputs in %s/; open %s/report.html in a browser\n' $(( $(date +%s) - start )) "$OUT" "$OUT"
