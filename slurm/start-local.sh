#!/usr/bin/env bash
# Starts a single-node Slurm (munge + slurmctld + slurmd) on 127.0.0.1, as root, for tests and
# demos. Idempotent: daemons already alive (by pid file, zombies ignored) are left alone.
# Prints `export SLURM_CONF=...` as its last line: eval "$(slurm/start-local.sh | tail -1)".
#   SLURM_ROOT  state/log directory (default /tmp/netosis-slurm)
set -euo pipefail
SLURM_ROOT=${SLURM_ROOT:-/tmp/netosis-slurm}
command -v slurmctld >/dev/null || { echo "slurm: slurmctld not installed (run make setup)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "slurm: the local test cluster must be started as root" >&2; exit 1; }
mkdir -p "$SLURM_ROOT"/{state,spool,log}
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
if ! munge -n >/dev/null 2>&1; then
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
  fi
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n >/dev/null 2>&1 || { echo "slurm: munged did not start" >&2; exit 1; }
fi
HOST=$(hostname -s); NCPU=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 1024 - 2048 ))
cat > "$SLURM_ROOT/slurm.conf" <<CONF
ClusterName=netosis-ci
SlurmctldHost=${HOST}(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SLURM_ROOT/state
SlurmdSpoolDir=$SLURM_ROOT/spool
SlurmctldPidFile=$SLURM_ROOT/slurmctld.pid
SlurmdPidFile=$SLURM_ROOT/slurmd.pid
SlurmctldLogFile=$SLURM_ROOT/log/slurmctld.log
SlurmdLogFile=$SLURM_ROOT/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=pmix
ReturnToService=2
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${NCPU} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=60 State=UP
CONF
export SLURM_CONF="$SLURM_ROOT/slurm.conf"
# Daemonising parents linger as zombies with the same name: check pid files, not pgrep.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$(cat "$1")/status"; }
alive "$SLURM_ROOT/slurmctld.pid" || slurmctld -f "$SLURM_CONF"
alive "$SLURM_ROOT/slurmd.pid"    || slurmd -f "$SLURM_CONF"
state=unknown; deadline=$(( $(date +%s) + 30 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  state=$(timeout 5 sinfo -h -N -o '%t' 2>/dev/null || true)
  [ "$state" = idle ] && break
  # A node left "down"/"drain" by an earlier run comes back with an explicit resume.
  case "$state" in down*|drain*) timeout 5 scontrol update nodename="$HOST" state=resume 2>/dev/null || true ;; esac
  sleep 0.2
done
if [ "$state" != idle ]; then
  echo "slurm: node did not become idle within 30 s (state: ${state:-none}); last log lines:" >&2
  tail -n 20 "$SLURM_ROOT"/log/*.log >&2 || true
  exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
