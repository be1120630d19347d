#!/bin/sh
# Slurm accounting for the one-node test cluster (slurm_cluster.sh): a MariaDB server in a fresh data folder under
# DIR (listening on 127.0.0.1:DB_PORT and a socket in DIR, running as root, no system service involved), slurmdbd
# (accounting_storage/mysql) on 127.0.0.1:DBD_PORT, and the cluster registered with sacctmgr, so `sacct` answers
# for jobs slurmctld has purged. Every file lives under DIR/acct; the daemons are stopped by their pid files.
#   slurm_accounting.sh start DIR CLUSTER MUNGE_SOCKET DB_PORT DBD_PORT
#       start both, register CLUSTER; writes the slurm.conf lines to use to DIR/acct/slurm.conf.part (exit 0), or
#       says exactly why not on stderr, stops what it started and exits 1
#   slurm_accounting.sh stop DIR
# Debian packages: slurmdbd, slurm-wlm-mysql-plugin, mariadb-server (mariadbd, mariadb-install-db). Root only.
set -u
action=${1:-}
dir=${2:-}
[ -n "$action" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR CLUSTER MUNGE_SOCKET DB_PORT DBD_PORT | stop DIR" >&2; exit 2; }
acct="$dir/acct"
PATH=$PATH:/usr/sbin

. "$(dirname "$0")/pidfile.sh"

if [ "$action" = stop ]; then
    stop_pidfile "$acct/slurmdbd.pid"
    stop_pidfile "$acct/mariadbd.pid"
    exit 0
fi
[ "$action" = start ] && [ $# -eq 6 ] || { echo "usage: $0 start DIR CLUSTER MUNGE_SOCKET DB_PORT DBD_PORT" >&2; exit 2; }
cluster=$3
socket=$4
db_port=$5
dbd_port=$6

fail() {
    echo "$*" >&2
    "$0" stop "$dir" >/dev/null 2>&1
    exit 1
}
for p in mariadbd mariadb-install-db slurmdbd sacctmgr sacct; do
    command -v $p >/dev/null 2>&1 || fail "$p not found (apt-get install slurmdbd slurm-wlm-mysql-plugin mariadb-server)"
done
plugin=$(ls /usr/lib/*/slurm-wlm/accounting_storage_mysql.so /usr/lib/slurm-wlm/accounting_storage_mysql.so 2>/dev/null | head -n 1)
[ -n "$plugin" ] || fail "slurmdbd's MySQL plugin accounting_storage_mysql.so not found (apt-get install slurm-wlm-mysql-plugin)"
[ "$(id -u)" = 0 ] || fail "must run as root (mariadbd and slurmdbd run as root here), running as uid $(id -u)"

rm -rf "$acct"
mkdir -p "$acct/db" || fail "cannot create $acct"

# MariaDB: small InnoDB files (the defaults write ~100 MB), no binary log, no name resolution; the init file makes the
# user slurmdbd logs in as (TCP from 127.0.0.1, with a password: root's default login is by unix socket only).
innodb="--innodb-log-file-size=4M --innodb-buffer-pool-size=16M --innodb-data-file-path=ibdata1:4M:autoextend"
# shellcheck disable=SC2086
mariadb-install-db --no-defaults --datadir="$acct/db" --user=root --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve $innodb >"$acct/install-db.log" 2>&1 \
    || fail "mariadb-install-db failed: $(tail -n 5 "$acct/install-db.log")"
cat > "$acct/init.sql" <<SQL
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'matrix-test';
GRANT ALL PRIVILEGES ON *.* TO 'slurm'@'127.0.0.1';
SQL
# shellcheck disable=SC2086
mariadbd --no-defaults --datadir="$acct/db" --user=root --bind-address=127.0.0.1 --port="$db_port" \
    --socket="$acct/mariadbd.sock" --pid-file="$acct/mariadbd.pid" --log-error="$acct/mariadbd.log" \
    --skip-name-resolve --skip-log-bin --innodb-lock-wait-timeout=900 $innodb --init-file="$acct/init.sql" \
    </dev/null >/dev/null 2>&1 &
i=0
while ! grep -q "ready for connections" "$acct/mariadbd.log" 2>/dev/null && [ $i -lt 300 ]; do
    grep -q "\[ERROR\] Aborting" "$acct/mariadbd.log" 2>/dev/null && break
    sleep 0.1
    i=$((i + 1))
done
grep -q "ready for connections" "$acct/mariadbd.log" 2>/dev/null \
    || fail "mariadbd did not become ready on 127.0.0.1:$db_port within 30 s: $(grep -E 'ERROR|Error' "$acct/mariadbd.log" | tail -n 3)"

# slurmdbd reads slurmdbd.conf from the folder of SLURM_CONF: its own folder here, with a slurm.conf naming the
# cluster's munge socket (AccountingStoragePass: the munge socket clients use to reach slurmdbd).
cat > "$acct/slurmdbd.conf" <<CONF
# Written by tests/slurm/slurm_accounting.sh.
AuthType=auth/munge
AuthInfo=socket=$socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
PidFile=$acct/slurmdbd.pid
LogFile=$acct/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=matrix-test
StorageLoc=slurm_acct_db
CONF
chmod 600 "$acct/slurmdbd.conf"
cat > "$acct/slurm.conf.part" <<CONF
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
AccountingStoragePass=$socket
CONF
{ echo "ClusterName=$cluster"; echo "SlurmctldHost=$(hostname -s)"; echo "AuthType=auth/munge";
  echo "AuthInfo=socket=$socket"; cat "$acct/slurm.conf.part"; } > "$acct/slurm.conf"
SLURM_CONF="$acct/slurm.conf" slurmdbd </dev/null >/dev/null 2>&1 \
    || fail "slurmdbd did not start: $(tail -n 5 "$acct/slurmdbd.log" 2>/dev/null)"
# slurmdbd creates its tables on the first start; sacctmgr answers once it listens.
i=0
while [ $i -lt 60 ]; do
    out=$(SLURM_CONF="$acct/slurm.conf" sacctmgr -i add cluster "$cluster" 2>&1) && break
    case "$out" in *fatal*) break;; esac  # a configuration error: no point in asking again
    sleep 0.5
    i=$((i + 1))
done
SLURM_CONF="$acct/slurm.conf" sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$cluster" \
    || fail "sacctmgr could not register cluster $cluster with slurmdbd on 127.0.0.1:$dbd_port within 30 s: $out
$(tail -n 5 "$acct/slurmdbd.log" 2>/dev/null)"
exit 0
