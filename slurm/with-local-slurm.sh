#!/usr/bin/env bash
# Runs a command with a single-node Slurm up and SLURM_CONF exported, then stops Slurm again
# (only if this script started it). Used by `make test`:  slurm/with-local-slurm.sh swift test ...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SLURM_ROOT=${SLURM_ROOT:-/tmp/netosis-slurm}
was_running=no
[ -f "$SLURM_ROOT/slurmctld.pid" ] && kill -0 "$(cat "$SLURM_ROOT/slurmctld.pid")" 2>/dev/null && was_running=yes
conf_line=$("$here/start-local.sh" | tail -n 1)
eval "$conf_line"
[ "$was_running" = yes ] || trap '"$here/stop-local.sh"' EXIT
echo "slurm: single-node cluster up (SLURM_CONF=$SLURM_CONF)"
"$@"
