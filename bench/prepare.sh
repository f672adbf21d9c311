#!/usr/bin/env bash
# Throughput of `netosis prepare` (numbers in docs/prepare.md "Measured"):
#   1. the 27 real annotated fields of ../shared/data/netosis-sample (if present),
#   2. full-size synthetic wells (4032×3072, `netosis synth --full-size`).
# Prints wall and CPU seconds, peak memory and the tool's own patches/s line. Compare medians on a
# shared machine (load is printed first).
# Usage: bench/prepare.sh BIN_DIR [WELLS] [WORK_DIR]
set -euo pipefail
BIN=${1:?usage: bench/prepare.sh BIN_DIR [WELLS] [WORK_DIR]}
WELLS=${2:-3}
WORK=${3:-$(mktemp -d -t netosis-bench-prepare-XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=${NETOSIS_SHARED_DATA:-$ROOT/../shared/data}/netosis-sample
echo "load: $(cut -d' ' -f1-3 /proc/loadavg); work: $WORK"
timed() { /usr/bin/time -f "  %e s wall, %U s user, %M KB peak" "$@"; }
if [ -d "$SAMPLE/tiff" ]; then
  echo "prepare: real sample (27 fields, 672x512)"
  timed "$BIN/netosis" prepare --images "$SAMPLE/tiff" --annotations "$SAMPLE/annotations" \
    --out "$WORK/sample.h5" --overwrite --split-by experiment --seed 7 2>&1 | grep -E "^wrote|wall"
fi
echo "synth: $WELLS full-size wells"
"$BIN/netosis" synth --out "$WORK/synth" --seed 3 --plates 1 --wells "$WELLS" --full-size >/dev/null 2>&1
echo "prepare: $WELLS full-size synthetic wells (4032x3072)"
timed "$BIN/netosis" prepare --images "$WORK/synth/images" --annotations "$WORK/synth/annotations" \
  --out "$WORK/synth.h5" --overwrite --split-by well --seed 3 2>&1 | grep -E "^wrote|wall"
