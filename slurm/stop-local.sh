#!/usr/bin/env bash
# Stops the single-node Slurm started by start-local.sh (slurmctld, slurmd) and munged.
set -u
SLURM_ROOT=${SLURM_ROOT:-/tmp/netosis-slurm}
export SLURM_CONF="$SLURM_ROOT/slurm.conf"
[ -f "$SLURM_CONF" ] && timeout 10 scontrol shutdown >/dev/null 2>&1
for pidfile in "$SLURM_ROOT/slurmctld.pid" "$SLURM_ROOT/slurmd.pid" /run/munge/munged.pid; do
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; kill "$pid" 2>/dev/null; sleep 0.1; done
  fi
done
exit 0
