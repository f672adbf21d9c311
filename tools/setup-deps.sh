#!/usr/bin/env bash
# Installs the Debian packages netosis needs, only those missing (idempotent, fast when done).
#   tools/setup-deps.sh          build + runtime + test tools (MPI, HDF5, libtiff, OpenBLAS, Slurm, Chromium for the report test)
# Runs apt-get as root (CI, containers) or through sudo if available.
set -euo pipefail
packages=(pkg-config python3 libopenmpi-dev openmpi-bin libhdf5-dev hdf5-tools libtiff-dev libtiff-tools libpng-dev libturbojpeg0-dev
          libopenblas-dev slurmctld slurmd slurm-client munge chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to apt-get install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
