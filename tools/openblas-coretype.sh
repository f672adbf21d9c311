#!/usr/bin/env bash
# Prints the OPENBLAS_CORETYPE launchers should export (empty line = leave OpenBLAS to detect).
# The same rule as Sources/Neural/BLAS/KernelPolicy.swift (netosis applies it itself by re-exec):
#   1. NETOSIS_OPENBLAS_CORETYPE set: use it ("auto" = unset, OpenBLAS detects the CPU);
#   2. else the CPU has avx512f/cd/bw/dq/vl: SkylakeX (about 2x the sgemm speed of Haswell);
#   3. else keep the OPENBLAS_CORETYPE the environment already has.
# An inherited OPENBLAS_CORETYPE is not treated as a user override: some sites set Haswell globally.
set -u
if [ -n "${NETOSIS_OPENBLAS_CORETYPE:-}" ]; then
  if [ "${NETOSIS_OPENBLAS_CORETYPE,,}" = auto ]; then echo ""; else echo "$NETOSIS_OPENBLAS_CORETYPE"; fi
  exit 0
fi
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
for f in avx512f avx512cd avx512bw avx512dq avx512vl; do
  case " $flags " in *" $f "*) ;; *) echo "${OPENBLAS_CORETYPE:-}"; exit 0 ;; esac
done
echo SkylakeX
