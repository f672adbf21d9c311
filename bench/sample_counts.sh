#!/usr/bin/env bash
# Per-image counts on the real sample against the manual Cell Counter counts, every image screened by a
# model that never saw it: for each of the 5 folds by image (bench/sample_cv.sh), `netosis screen` of that
# fold's test images with that fold's checkpoint, then one `netosis counts` over the 5 results files
# (n = 27 images). docs/benchmarks.md "Counts on the real sample".
# Usage: bench/sample_counts.sh NETOSIS PATCHES_PATTERN CHECKPOINT_PATTERN [OUT]
#   PATCHES_PATTERN / CHECKPOINT_PATTERN contain {k} for the fold, e.g.
#   bench/sample_counts.sh .build/release/netosis '/tmp/cv/patches/p64-x-fold{k}.h5' '/tmp/cv/recipe/netosis/f{k}-s1/best.h5'
# METHOD=rule: the ImageJ rule baseline instead — per fold, `calibrate-rule` on the fold's train + val images
# (CHECKPOINT_PATTERN is then where the rule files go, e.g. '/tmp/rule/rule-fold{k}.json'), `screen --method rule`.
set -euo pipefail
N=${1:?usage: bench/sample_counts.sh NETOSIS PATCHES_PATTERN CHECKPOINT_PATTERN [OUT]}
PATCHES=${2:?}; CHECKPOINTS=${3:?}; OUT=${4:-/tmp/netosis-sample-counts}
SAMPLE=$(cd "$(dirname "$0")/../../shared/data/netosis-sample" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
results=()
for k in 0 1 2 3 4; do
  p=${PATCHES//\{k\}/$k}; ck=${CHECKPOINTS//\{k\}/$k}
  # The fold's test images (split 2) from the patches file's /images table.
  h5dump -d /images/split -d /images/name "$p" | python3 -c '
import re, sys
sections = sys.stdin.read().split("DATASET ")
def data(section): return re.sub(r"\(\d+\):", "", section.split("DATA {", 1)[1].split("}", 1)[0])
splits = [int(v) for v in re.findall(r"\d+", data(sections[1]))]
names = re.findall(r"\"([^\"]+)\"", data(sections[2]))
assert len(splits) == len(names), (len(splits), len(names))
print("path")
for split, name in zip(splits, names):
    if split == 2: print(sys.argv[1] + "/tiff/" + name + ".tif")
' "$SAMPLE" > "$OUT/fold$k.csv"
  echo "fold $k: $(($(wc -l < "$OUT/fold$k.csv") - 1)) test images, checkpoint $ck"
  if [ "${METHOD:-ol}" = rule ]; then
    "$N" calibrate-rule --data "$p" --out "$ck" --overwrite 2>/dev/null | sed 's/^/  /'
  fi
  mpirun -np 2 "$N" screen --method "${METHOD:-ol}" --checkpoint "$ck" --input "$OUT/fold$k.csv" --out "$OUT/results-fold$k.h5" --overwrite \
    | grep -E "screened|objects:" | sed 's/^/  /'
  results+=("$OUT/results-fold$k.h5")
done
"$N" counts --results "${results[@]}" --annotations "$SAMPLE/annotations" --json "$OUT/counts.json" --overwrite
