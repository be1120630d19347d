# Sourced by slurm_cluster.sh and slurm_accounting.sh. stop_pidfile FILE: TERM the daemon whose pid FILE holds, wait
# up to 10 s for it to go, then KILL it; FILE is removed. A missing or empty FILE, or a pid already gone, is fine.
stop_pidfile() {
    f=$1
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$f"
}
