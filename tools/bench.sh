#!/usr/bin/env bash
# The README's `make bench`: machine check, then the benchmarks that exist (docs/benchmarks.md).
# Usage: tools/bench.sh BIN_DIR
set -euo pipefail
BIN=${1:?usage: tools/bench.sh BIN_DIR}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (benchmarks on a shared machine vary; compare medians)"
"$BIN/netosis" doctor
