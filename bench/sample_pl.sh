#!/usr/bin/env bash
# The PL counter on the real sample, every image counted by networks that never saw it: for each of the
# 5 folds by image (the folds of bench/sample_cv.sh: seed 7, val 0.15), `prepare --mode point` (32 px
# patches on the markers + 30 blank windows per image), stage 1 (config/models/pl-stage1-narrow.yaml),
# `maps --border reflect` of all 27 fields, stage 2 (config/models/pl-stage2-pooled.yaml) on the fold's
# training maps, `evaluate` of its test images, `screen --method pl` of them; then one `netosis counts`
# over the 5 results files (n = 27). docs/methods.md "The PL counter end to end".
# Usage: bench/sample_pl.sh NETOSIS [OUT]    (AUGMENT=false: stage 2 without flips; EPOCHS2: stage-2 epochs;
#   SYNTH=N: N synthetic 672×512 fields (`synth`, seed 5, the model calibrated to this sample) mapped by each
#   fold's stage 1 and added to its stage-2 training with --also-train)
set -euo pipefail
N=${1:?usage: bench/sample_pl.sh NETOSIS [OUT]}; OUT=${2:-/tmp/netosis-sample-pl}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=$(cd "$ROOT/../shared/data/netosis-sample" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"; cd "$ROOT"
printf 'augment: %s\n' "${AUGMENT:-true}" > "$OUT/stage2-run.yaml"
results=()
if [ -n "${SYNTH:-}" ]; then
  [ -f "$OUT/synth/synth.json" ] || "$N" synth --out "$OUT/synth" --plates 1 --wells "$SYNTH" --width 672 --height 512 --seed 5 | tail -n 1
  [ -f "$OUT/synth-points.h5" ] || "$N" prepare --images "$OUT/synth/images" --annotations "$OUT/synth/annotations" \
      --out "$OUT/synth-points.h5" --mode point --patch-size 32 --negatives 30 --val-fraction 0 --test-fraction 0 | tail -n 1
fi
for k in 0 1 2 3 4; do
  F="$OUT/fold$k"; mkdir -p "$F"; start=$(date +%s)
  [ -f "$F/points.h5" ] || "$N" prepare --images "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" --out "$F/points.h5" \
      --mode point --patch-size 32 --negatives 30 --split-by image --folds 5 --fold "$k" --val-fraction 0.15 --seed 7 | tail -n 1
  [ -f "$F/s1/model.h5" ] || mpirun -np 2 "$N" train --data "$F/points.h5" --model pl-stage1-narrow --out "$F/s1" --epochs 15 \
      --batch-size 32 --optimizer adam --lr 0.002 --lr-decay 0.002 --patience 0 | grep -E "^epoch 15" | sed "s/^/  fold $k stage 1: /"
  [ -f "$F/maps.h5" ] || mpirun -np 2 "$N" maps --stage1 "$F/s1/model.h5" --patches "$F/points.h5" --out "$F/maps.h5" --border reflect | tail -n 1
  extra=()
  if [ -n "${SYNTH:-}" ]; then
    [ -f "$F/synth-maps.h5" ] || mpirun -np 2 "$N" maps --stage1 "$F/s1/model.h5" --patches "$OUT/synth-points.h5" --out "$F/synth-maps.h5" \
        --border reflect | tail -n 1
    extra=(--also-train "$F/synth-maps.h5")
  fi
  [ -f "$F/s2/model.h5" ] || mpirun -np 2 "$N" train --task count --data "$F/maps.h5" "${extra[@]}" --model pl-stage2-pooled --out "$F/s2" \
      --epochs "${EPOCHS2:-100}" --batch-size 4 --optimizer adam --lr 0.003 --lr-decay 0.001 --patience 0 --config "$OUT/stage2-run.yaml" \
      | grep -E "^epoch ${EPOCHS2:-100}/" | sed "s/^/  fold $k stage 2: /"
  "$N" evaluate --checkpoint "$F/s2/model.h5" --data "$F/maps.h5" --split test --json "$F/test-counts.json" --overwrite | tail -n 2
  python3 -c 'import json,sys; print("path"); [print(sys.argv[2] + "/tiff/" + i["image"] + ".tif") for i in json.load(open(sys.argv[1]))["images"]]' \
      "$F/test-counts.json" "$SAMPLE" > "$F/test.csv"
  mpirun -np 2 "$N" screen --method pl --checkpoint "$F/s1/model.h5" --stage2 "$F/s2/model.h5" --input "$F/test.csv" \
      --out "$F/results.h5" --overwrite | grep -E "screened" | sed 's/^/  /'
  results+=("$F/results.h5")
  echo "fold $k: $(( $(date +%s) - start )) s"
done
"$N" counts --results "${results[@]}" --annotations "$SAMPLE/annotations" --json "$OUT/counts.json" --overwrite
