#!/usr/bin/env bash
# The README's `make demo`: checks the MPI/HDF5/TIFF/BLAS stack on 2 ranks, then runs the
# pipeline on the embedded synthetic plate set. Usage: tools/demo.sh BIN_DIR [OUT_DIR]
set -euo pipefail
BIN=${1:?usage: tools/demo.sh BIN_DIR [OUT_DIR]}
OUT=${2:-demo-out}
NETOSIS="$BIN/netosis"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "doctor on 2 MPI ranks"
mpirun -np 2 "$NETOSIS" doctor
