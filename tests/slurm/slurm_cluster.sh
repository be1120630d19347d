#!/bin/sh
# A single-node Slurm cluster on this machine for the tests, without systemd: a munge key and munged, a slurm.conf
# naming this host with its CPU count and memory (as `slurmd -C` reports them), slurmctld and slurmd as background
# daemons; every file (config, state, spool, logs, pid files, munge socket) lives under DIR.
#   slurm_cluster.sh start DIR   configure, start, wait until the node is idle (exit 0), or say exactly why not
#   slurm_cluster.sh stop DIR    stop the daemons it started (by their pid files) and munged
# Clients use the cluster with SLURM_CONF=DIR/slurm.conf. Debian packages: slurm-wlm, munge. Must run as root (the
# daemons' users are root so that the state folders under DIR need no other owner).
# Accounting: slurm_accounting.sh starts MariaDB and slurmdbd beside it, so sacct answers for jobs slurmctld has
# purged (MinJobAge=2 then). Where they cannot start (a package missing, ...), or with MATRIX_SLURM_ACCOUNTING=0, the
# cluster runs without accounting as before (MinJobAge=$min_job_age) and DIR/accounting.off says why; DIR/accounting.on
# otherwise. Tests that need sacct read these files (tests/app/test_slurm_accounting.cpp).
set -u
action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

. "$(dirname "$0")/pidfile.sh"

if [ "$action" = stop ]; then
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    "$(dirname "$0")/slurm_accounting.sh" stop "$dir"
    stop_pidfile "$dir/munged.pid"
    echo "slurm test cluster in $dir stopped"
    exit 0
fi
[ "$action" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

fail() { echo "slurm test cluster: $*" >&2; exit 1; }
for p in munged slurmctld slurmd sbatch squeue scancel sinfo; do
    command -v $p >/dev/null 2>&1 || [ -x /usr/sbin/$p ] || fail "$p not found: apt-get install slurm-wlm munge"
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" = 0 ] || fail "must run as root (slurmctld and slurmd run as root here), running as uid $(id -u)"

# A previous start in the same folder: stop it first.
"$0" stop "$dir" >/dev/null 2>&1
rm -rf "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge" || fail "cannot create $dir"
chmod 700 "$dir/munge"

# munge: a fresh key, the daemon on a socket of our own.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null || fail "cannot write the munge key"
chmod 400 "$dir/munge/munge.key"
socket="$dir/munge/munge.socket"
munged --key-file="$dir/munge/munge.key" --socket="$socket" --pid-file="$dir/munged.pid" \
       --log-file="$dir/munged.log" --seed-file="$dir/munge/munged.seed" --force </dev/null >/dev/null 2>&1 \
       || fail "munged did not start: $(tail -n 3 "$dir/munged.log" 2>/dev/null)"
i=0
while [ ! -S "$socket" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -S "$socket" ] || fail "munged made no socket at $socket: $(tail -n 3 "$dir/munged.log" 2>/dev/null)"

# Two free TCP ports for slurmctld and slurmd.
listening() {  # the TCP ports in LISTEN state, in decimal, from /proc (no iproute2 needed)
    awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null |
        while read -r hex; do echo $((0x$hex)); done
}
free_port() {
    p=$1
    used=$(listening)
    while echo "$used" | grep -qx "$p"; do p=$((p + 1)); done
    echo $p
}
ctld_port=$(free_port $((20000 + $$ % 20000)))
slurmd_port=$(free_port $((ctld_port + 1)))
db_port=$(free_port $((slurmd_port + 1)))
dbd_port=$(free_port $((db_port + 1)))

# Accounting (slurmdbd + MariaDB), or the reason there is none.
rm -f "$dir/accounting.on" "$dir/accounting.off"
accounting="AccountingStorageType=accounting_storage/none"
min_job_age=600
if [ "${MATRIX_SLURM_ACCOUNTING:-1}" = 0 ]; then
    echo "accounting disabled by MATRIX_SLURM_ACCOUNTING=0" > "$dir/accounting.off"
elif why=$("$(dirname "$0")/slurm_accounting.sh" start "$dir" matrixtest "$socket" "$db_port" "$dbd_port" 2>&1); then
    accounting=$(cat "$dir/acct/slurm.conf.part")
    min_job_age=2  # finished jobs leave squeue at slurmctld's next purge (every 60 s): sacct answers after that
    echo "slurmdbd on 127.0.0.1:$dbd_port, MariaDB on 127.0.0.1:$db_port" > "$dir/accounting.on"
else
    echo "${why:-slurm_accounting.sh failed without a message}" > "$dir/accounting.off"
fi

host=$(hostname -s)
# This machine as slurmd sees it ("NodeName=vm CPUs=2 Boards=1 ... RealMemory=23000"), first line only.
node_line=$(slurmd -C 2>/dev/null | head -n 1)
case "$node_line" in NodeName=*) ;; *) fail "slurmd -C did not describe this machine: '$node_line'";; esac
# Leave memory headroom (RealMemory at most what the node has, or slurmd drains it).
mem=$(echo "$node_line" | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
node_line=$(echo "$node_line" | sed "s/RealMemory=[0-9]*/RealMemory=$((mem * 9 / 10))/")

cat > "$dir/slurm.conf" <<CONF
# Written by tests/slurm/slurm_cluster.sh: a one-node cluster for the tests.
ClusterName=matrixtest
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
$accounting
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=$min_job_age
SlurmctldTimeout=30
SlurmdTimeout=30
$node_line State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

# The daemons' output goes to their log files: CTest waits for a fixture's output pipes to close.
slurmctld -f "$SLURM_CONF" -i </dev/null >/dev/null 2>&1 || fail "slurmctld did not start: $(tail -n 5 "$dir/slurmctld.log" 2>/dev/null)"
slurmd -f "$SLURM_CONF" </dev/null >/dev/null 2>&1 || fail "slurmd did not start: $(tail -n 5 "$dir/slurmd.log" 2>/dev/null)"
i=0
state=
while [ $i -lt 300 ]; do
    state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1)
    case "$state" in idle*|mixed*|allocated*) break;; esac
    sleep 0.1
    i=$((i + 1))
done
case "$state" in
    idle*|mixed*|allocated*) ;;
    *) why=$(tail -n 5 "$dir/slurmctld.log" 2>/dev/null; tail -n 5 "$dir/slurmd.log" 2>/dev/null)
       fail "the node did not become idle within 30 s (sinfo state '$state'); logs:
$why";;
esac
echo "slurm test cluster up: SLURM_CONF=$SLURM_CONF, node $host ($node_line), slurmctld port $ctld_port"
if [ -f "$dir/accounting.on" ]; then
    echo "accounting: $(cat "$dir/accounting.on")"
else
    echo "accounting: off: $(cat "$dir/accounting.off")"
fi
