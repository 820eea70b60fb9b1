#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine (CI, or any disposable root box):
# munge + slurmctld + slurmd from the Debian packages, one partition "ptb", and two
# dummy GPUs (gres gpu:2 backed by /dev/null-like char devices) so that GPU requests
# are scheduled and jobs get CUDA_VISIBLE_DEVICES as on a real GPU node.
#
#   sudo .ci/slurm/start.sh     # ~5 s; prints "SLURM came up: ..." when the node is idle
#   sudo .ci/slurm/stop.sh
#
# Settings (see /work/shared/DESIGN.md, "Facts learned on these machines"):
#   ProctrackType=proctrack/linuxproc, TaskPlugin=task/none  (no cgroups in containers)
#   SelectType=select/cons_tres, GresTypes=gpu, gres.conf File= on mknod'ed devices
#     (a Count= without File= drains the node)
#   MinJobAge=600: no slurmdbd here, so `sacct` has nothing; finished jobs stay visible
#     to squeue/scontrol for 10 minutes, which the executor plugin's
#     `--slurm-status-command squeue` relies on.
set -euo pipefail

STATE=${PTB_SLURM_STATE:-/var/lib/ptb-slurm}
CONF_DIR=/etc/slurm
MARKER="# written by .ci/slurm/start.sh"
PARTITION=${PTB_SLURM_PARTITION:-ptb}
GPUS=${PTB_SLURM_GPUS:-2}
GPU_TYPE=${PTB_SLURM_GPU_TYPE:-ci}     # what a gpu_model resource asks for (--gpus=ci:1)
FEATURE=${PTB_SLURM_FEATURE:-ptbci}   # a node feature, for constraint resources (-C ptbci)

log() { echo "[slurm] $*"; }
die() { echo "[slurm] ERROR: $*" >&2; exit 1; }

[[ $EUID -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sinfo >/dev/null \
   || ! command -v munged >/dev/null; then
  log "installing munge, slurmctld, slurmd, slurm-client (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq munge slurmctld slurmd slurm-client >/dev/null
fi

if [[ -f $CONF_DIR/slurm.conf ]] && ! grep -qF "$MARKER" "$CONF_DIR/slurm.conf"; then
  die "$CONF_DIR/slurm.conf exists and was not written by this script; refusing to overwrite it"
fi

if sinfo -h >/dev/null 2>&1 && [[ -f $STATE/started ]]; then
  log "already running (state in $STATE); run .ci/slurm/stop.sh first to restart"
  sinfo
  exit 0
fi

rm -rf "$STATE"
mkdir -p "$STATE"/{ctld,slurmd,log,run,dev} "$CONF_DIR"
: > "$STATE/started"

# dummy GPU devices: slurm only needs files to hand out; CUDA_VISIBLE_DEVICES follows the index
gpu_files=()
for ((i = 0; i < GPUS; i++)); do
  mknod "$STATE/dev/gpu$i" c 1 3
  gpu_files+=("$STATE/dev/gpu$i")
done

NODE=$(hostname -s)
# what the hardware really has (a node configured with more than it has is drained)
read -r CPUS MEM < <(slurmd -C | awk '/^NodeName/ {
  for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  print v["CPUs"], v["RealMemory"] }')
MEM=$((MEM * 95 / 100))

cat > "$CONF_DIR/slurm.conf" <<CONF
$MARKER
ClusterName=ptb-ci
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
MpiDefault=none
ReturnToService=2
MinJobAge=600
DefMemPerCPU=1000
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM Gres=gpu:$GPU_TYPE:$GPUS Features=$FEATURE State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF

{
  echo "$MARKER"
  for ((i = 0; i < GPUS; i++)); do echo "NodeName=$NODE Name=gpu Type=$GPU_TYPE File=${gpu_files[$i]}"; done
} > "$CONF_DIR/gres.conf"

# munge: reuse a running one, else start our own (as the munge user, like its service does)
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munge already running"
else
  [[ -s /etc/munge/munge.key ]] || { mungekey --create >/dev/null 2>&1 || create-munge-key -f; }
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
  echo munged >> "$STATE/started"
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munged did not start"
fi

slurmctld && echo slurmctld >> "$STATE/started"
for _ in $(seq 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done
slurmd && echo slurmd >> "$STATE/started"

state=""
for _ in $(seq 300); do
  state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null | head -1 || true)
  [[ $state == idle ]] && break
  sleep 0.1
done
if [[ $state != idle ]]; then
  tail -20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
  die "node $NODE is '$state', not idle"
fi
log "SLURM came up: node $NODE idle, partition $PARTITION, $CPUS CPUs, ${MEM} MB, gres gpu:$GPU_TYPE:$GPUS, feature $FEATURE (logs in $STATE/log)"
sinfo -o "%P %a %D %t %c %m %G"
