#!/usr/bin/env bash
# Issue 11's benchmark (docs/benchmarks.md "Analysis of a 20-plate cohort"): a synthetic cohort of
# 20 plates written as results files straight from its truth (synth --results-only), then every
# analysis and the report on them, each timed (wall seconds, median of REPEATS runs).
# Usage: bench/cohort_analysis.sh NETOSIS [OUT_DIR] [SIZE]   SIZE: default (1344×1024) or full (4032×3072)
set -euo pipefail
N=${1:?usage: bench/cohort_analysis.sh NETOSIS [OUT_DIR] [default|full]}
OUT=${2:-/tmp/netosis-cohort-bench}
SIZE=${3:-default}
REPEATS=${REPEATS:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
mkdir -p "$OUT"
size=(); [ "$SIZE" = full ] && size=(--full-size)
echo "cohort analysis bench: $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), wells $SIZE"

# 12 control + 8 sickle-cell donors, 5 replicates of the 17-well block: one donor per plate, 20 plates
# of 85 wells (1,700 wells), 10 % of them lost.
set_=$OUT/cohort-$SIZE
start=$(date +%s.%N)
mpirun -np 2 "$N" synth --out "$set_" --overwrite --seed 20 --cohort 12,8 --replicates 5 --missing-wells 0.1 --results-only "${size[@]}" | tail -1
echo "synth --results-only on 2 ranks: $(echo "$(date +%s.%N) - $start" | bc | xargs printf %.1f) s"
results=("$set_"/results/*.h5)
echo "${#results[@]} results files, $(du -sh "$set_/results" | cut -f1)"

timed() {  # label, command…: median wall seconds over REPEATS runs
  local label=$1; shift
  local times=()
  for _ in $(seq "$REPEATS"); do
    local t0; t0=$(date +%s.%N)
    "$@" > "$OUT/last.log" 2>&1 || { echo "$label FAILED:"; tail -5 "$OUT/last.log"; return 1; }
    times+=("$(echo "$(date +%s.%N) - $t0" | bc)")
  done
  printf '%s: median %.2f s (runs: %s)\n' "$label" "$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" \
    "$(printf '%.2f ' "${times[@]}")"
}
timed "analyze dose-response --group-by agonist,genotype" "$N" analyze dose-response --results "${results[@]}" --group-by agonist,genotype --out "$OUT/dr" --overwrite
timed "analyze cohort --factor genotype" "$N" analyze cohort --results "${results[@]}" --factor genotype --out "$OUT/cohort" --overwrite
timed "analyze clustering --group-by agonist --compare A23187,PMA" "$N" analyze clustering --results "${results[@]}" --group-by agonist --compare A23187,PMA --out "$OUT/clustering" --overwrite
timed "report" "$N" report --results "${results[@]}" --out "$OUT/report.html" --overwrite
"$N" analyze cohort --results "${results[@]}" --factor genotype --out "$OUT/cohort" --overwrite 2>&1 | grep -E "dose × genotype|EC50" | sed 's/^/  /'
