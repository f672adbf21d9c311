#!/usr/bin/env bash
# The README's `make bench`: the benchmarks that need nothing beyond the build (docs/benchmarks.md).
# The side-by-side comparison with PyTorch needs a torch venv: bench/compare_torch.sh.
# Usage: tools/bench.sh BIN_DIR
set -euo pipefail
BIN=${1:?usage: tools/bench.sh BIN_DIR}
cd "$(dirname "$0")/.."
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) — a shared machine varies ±25%: compare medians and ratios"

echo; echo "== BLAS and stack"
"$BIN/netosis" doctor

echo; echo "== DenseNet-121, batch 32, 112x112: training and inference images/s, 1 rank x 2 threads"
"$BIN/netosis" bench --model densenet121 --batch-size 32 --threads 2

echo; echo "== the same on 2 ranks x 1 thread (gradients all-reduced every step; the faster layout here)"
mpirun -np 2 "$BIN/netosis" bench --model densenet121 --batch-size 32 --threads 1

echo; echo "== segmentation of one 4032x3072 16-bit well on one core"
bench/segment_bench.sh 7 "$BIN/netosis"

if [ -x /tmp/torch-venv/bin/python ]; then
  echo; echo "== netosis vs PyTorch, interleaved"
  NETOSIS="$BIN/netosis" bench/compare_torch.sh
  echo; echo "== ResNet-50 on 3x480x640 tiles (the celldeath method), netosis vs PyTorch, interleaved"
  NETOSIS="$BIN/netosis" bench/compare_resnet.sh
else
  echo; echo "(no /tmp/torch-venv: skipping the PyTorch comparison; see docs/benchmarks.md to set it up)"
fi

echo; echo "== the training loop (densenet121 through netosis train) and screening of full-size wells, end to end"
bench/pipeline.sh "$BIN/netosis"
