#!/bin/sh
# Long libFuzzer runs, one per target, for the record in bench/results/fuzz.md. Needs a clang fuzz build:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMATRIX_FUZZ=ON \
#       -DMATRIX_ENGINE_ONLY=ON -DMATRIX_WITH_TORCH=OFF -DMATRIX_BUILD_TESTS=OFF -DMATRIX_BUILD_BENCH=OFF
#   cmake --build build-fuzz --target <the fuzz_* targets>
# Usage: bench/fuzz/run_long.sh BUILD_DIR RUNS [TARGET...]   (default: every tests/fuzz/fuzz_*.cpp)
# Environment: MAX_TIME (seconds per target, default no limit: the run stops at RUNS), MAX_LEN (default 4096).
# Each target starts from a scratch copy of its saved corpus (tests/fuzz/corpus/<target>), so the repository's
# corpus only changes by hand: a crash input found here is copied there as a regression test after the fix.
# Prints one line per target: runs, seconds, executions per second, corpus size, crashes.
set -eu
build=$1; runs=$2; shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
targets=${*:-$(cd "$here/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')}
work=$(mktemp -d /tmp/matrix-fuzz.XXXXXX)
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for t in $targets; do
    bin="$build/tests/fuzz/$t"
    [ -x "$bin" ] || { echo "$t: not built ($bin)"; continue; }
    mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
    cp "$here/tests/fuzz/corpus/$t/"* "$work/$t/corpus/"
    start=$(date +%s.%N)
    set +e
    "$bin" -runs="$runs" -max_total_time="${MAX_TIME:-0}" -timeout=20 -rss_limit_mb=2048 -max_len="${MAX_LEN:-4096}" \
        -print_final_stats=1 \
        -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" > "$work/$t/log" 2>&1
    rc=$?
    set -e
    end=$(date +%s.%N)
    done_runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t/log" | grep -o '[0-9]*$' || echo "?")
    grep -h "fuzz invariant broken" "$work/$t/log" || true
    crashes=$(ls "$work/$t/artifacts" | wc -l)
    secs=$(echo "$end - $start" | bc)
    rate=$(echo "scale=0; ${done_runs:-0} / $secs" | bc 2>/dev/null || echo "?")
    echo "$t: rc=$rc runs=$done_runs seconds=$secs exec/s=$rate corpus=$(ls "$work/$t/corpus" | wc -l) crashes=$crashes log=$work/$t/log"
done
