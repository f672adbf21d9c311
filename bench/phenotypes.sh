#!/usr/bin/env bash
# The paper's phenotype and necrosis CNNs on synthetic plates with known separability: `synth
# --phenotypes` (6 plates × 24 wells + 2 freeze wells each, 672×512), `prepare --label-by
# platemap:agonist` (48×48 crops at the markers, split by well), then for 3 seeds: phenotype-narrow
# trained on 2 ranks (20 epochs, Adam) and evaluated on the held-out wells (0.5 threshold). Prints
# accuracy, balanced accuracy and the confusion matrix of each run and the generator's separability.
# docs/methods.md "Phenotype and necrosis CNNs".
# Usage: bench/phenotypes.sh NETOSIS [OUT]   (MODEL=phenotype PATCH=100: the paper's 100×100 network;
#   TASKS, SEEDS: which of agonist, necrosis-a23187, necrosis-pma and which seeds; EPOCHS)
set -euo pipefail
N=${1:?usage: bench/phenotypes.sh NETOSIS [OUT]}; OUT=${2:-/tmp/netosis-phenotypes}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
[ -f "$OUT/set/synth.json" ] || "$N" synth --out "$OUT/set" --plates 6 --wells 24 --width 672 --height 512 --seed 21 --phenotypes | tail -n 2
common=(--images "$OUT/set/images" --annotations "$OUT/set/annotations" --mode point --negatives 0 --patch-size "${PATCH:-48}"
        --split-by well --seed 2 --val-fraction 0.15 --test-fraction 0.3 --label-by platemap:agonist --platemap "$OUT/set/platemap.csv")
P=${PATCH:-48}; D="$OUT/$P-px"; mkdir -p "$D"
[ -f "$D/agonist.h5" ] || "$N" prepare "${common[@]}" --out "$D/agonist.h5" --classes PMA,A23187 | tail -n 6
[ -f "$D/necrosis-a23187.h5" ] || "$N" prepare "${common[@]}" --out "$D/necrosis-a23187.h5" --classes A23187,freeze --label-types 2,3 | tail -n 6
[ -f "$D/necrosis-pma.h5" ] || "$N" prepare "${common[@]}" --out "$D/necrosis-pma.h5" --classes PMA,freeze --label-types 2,3 | tail -n 6
MODEL=${MODEL:-phenotype-narrow}; EPOCHS=${EPOCHS:-20}
for task in ${TASKS:-agonist necrosis-a23187 necrosis-pma}; do
  for seed in ${SEEDS:-1 2 3}; do
    R="$OUT/$MODEL-$task-s$seed"
    [ -f "$R/model.h5" ] || mpirun -np 2 "$N" train --data "$D/$task.h5" --model "$MODEL" --out "$R" --epochs "$EPOCHS" \
        --batch-size 32 --optimizer adam --lr 0.002 --patience 0 --seed "$seed" | grep -E "^epoch $EPOCHS/" | sed "s/^/  $task seed $seed: /"
    "$N" evaluate --checkpoint "$R/model.h5" --data "$D/$task.h5" --split test --json "$R/test.json" --overwrite > /dev/null
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%s seed %s: accuracy %.3f balanced %.3f confusion %s (rows true %s)" % (sys.argv[2], sys.argv[3], d["accuracy"], d["balancedAccuracy"], d["confusion"], d["classes"]))' \
        "$R/test.json" "$task" "$seed"
  done
done
python3 -c 'import json,sys; print("separability (balanced, Bayes):", json.load(open(sys.argv[1]))["phenotypes"]["separability_balanced"])' "$OUT/set/synth.json"
