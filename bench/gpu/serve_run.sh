#!/usr/bin/env bash
# The prepared GPU run for `matrix serve`, one call of the device tool: engine-only build of `matrix` and
# bench_serve against the machine's LibTorch + CUDA, a greedy check of the server on CUDA against the HF fixture, then
# bench_serve with a Qwen2-VL-7B-shaped bf16 model (random weights) under 1, 8 and 32 concurrent streaming clients,
# and HF transformers' `generate` one request at a time on the same card (hf_serve_reference.py). Per-step timeouts
# inside a budget (MATRIX_GPU_BUDGET_S, default 540 s); everything in $OUT (progress.log, summary.txt, <step>.txt).
# Here first: bench/gpu/prepare.sh (fills .device/, httplib included). Device tool call:
#   command: bash bench/gpu/serve_run.sh    carry: [".device"]    timeout_s: 600
# Here, without a GPU: bench/gpu/serve_run.sh --cpu-dry-run (build/gpu-dry, tiny model on CPU, no HF step).
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
mode=gpu
[ "${1:-}" = "--cpu-dry-run" ] && mode=cpu
if [ $mode = gpu ]; then
  build=${MATRIX_GPU_BUILD:-build-gpu}; budget=${MATRIX_GPU_BUDGET_S:-540}; jobs=$(nproc); dev=cuda
  OUT=${OUT:-$repo/$build/out}
else
  build=build/gpu-dry; budget=100000; jobs=2; dev=cpu; OUT=${OUT:-$repo/build/gpu-dry/out-serve}
fi
mkdir -p "$OUT"
start=$(date +%s)
summary=$OUT/summary.txt
: > "$summary"
log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - start ))s] $*" | tee -a "$OUT/progress.log"; }
run_step() {
  local name=$1 t=$2 left rc t0
  shift 2
  left=$(( budget - ($(date +%s) - start) ))
  if [ "$left" -lt 20 ]; then log "SKIP $name: time budget spent"; echo "$name: skipped (budget)" >> "$summary"; return 99; fi
  [ "$t" -gt "$left" ] && t=$left
  log "start $name (timeout ${t}s): $*"
  t0=$(date +%s)
  timeout -k 10 "$t" "$@" > "$OUT/$name.txt" 2>&1
  rc=$?
  log "end $name: rc=$rc in $(( $(date +%s) - t0 ))s$([ $rc = 124 ] && echo ' (TIMED OUT)')"
  tail -n "$([ $rc = 0 ] && echo 14 || echo 25)" "$OUT/$name.txt" | cut -c1-220 | sed "s/^/  $name| /"
  echo "$name: rc=$rc $(( $(date +%s) - t0 ))s" >> "$summary"
  return $rc
}
[ -f .device/include/httplib.h ] || { [ $mode = cpu ] && bench/gpu/prepare.sh; } || log "WARNING: .device/ lacks httplib.h (run bench/gpu/prepare.sh, carry .device)"
{ date -u; nvidia-smi 2>/dev/null | head -15; python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)' 2>&1; nproc; } > "$OUT/env.txt" 2>&1

# ---- 1. configure + build (engine only) ----
cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMATRIX_ENGINE_ONLY=ON -DMATRIX_BUILD_TESTS=OFF
            -DMATRIX_EXTRA_INCLUDE_DIR="$repo/.device/include" -DMATRIX_EXTRA_LIB_DIR="$repo/.device/lib")
[ $mode = gpu ] && cmake_args+=(-DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
run_step configure 120 cmake "${cmake_args[@]}"
grep -E 'LibTorch|serve|Error|error' "$OUT/configure.txt" | head -8 | sed 's/^/  configure| /'
run_step build "$([ $mode = gpu ] && echo 330 || echo 3600)" nice ninja -C "$build" -k 0 -j"$jobs" matrix bench_serve
grep -E 'error|FAILED' "$OUT/build.txt" | head -30 | sed 's/^/  build-errors| /'
cli=$build/app/matrix
fx=$repo/tests/data/external/fixtures/qwen2vl-tiny

# ---- 2. the server on the device: case-1-like greedy text request; token ids vs `matrix generate` ----
check_server() {
  local port log=$OUT/server.log pid want got
  "$cli" serve --model "$fx/tiny-qwen2vl" --port 0 --device $dev > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do port=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2); [ -n "$port" ] && break; sleep 0.2; done
  [ -n "$port" ] || { echo "server did not start"; cat "$log"; kill $pid; return 1; }
  got=$(curl -s "http://127.0.0.1:$port/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Hello, who are you?"}],"temperature":0,"max_tokens":24}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"])')
  want=$("$cli" generate --model "$fx/tiny-qwen2vl" --prompt "Hello, who are you?" --max-new-tokens 24 --stop @@none@@ --device $dev 2>/dev/null)
  curl -s "http://127.0.0.1:$port/stats"; echo
  kill -TERM $pid; wait $pid
  echo "server: [$got]"; echo "generate: [$want]"
  [ "$got" = "$want" ] && echo "server greedy == matrix generate on $dev: PASSED" || { echo "DIFFER: FAILED"; return 1; }
}
export -f check_server
export cli fx dev OUT
[ -x "$cli" ] && run_step serve_check 90 bash -c check_server

# ---- 3. bench_serve: 1, 8, 32 concurrent clients ----
bs=$build/bench/bench_serve
if [ $mode = gpu ]; then
  [ -x "$bs" ] && run_step bench_serve_7b 200 "$bs" --7b --device cuda --dtype bf16 --clients 1,8,32 --requests 8 \
    --max-tokens 128 --prompt-words 200 --max-batch 32
  # ---- 4. HF transformers, one request at a time, same card, same shapes ----
  plen=$(sed -n 's/^prompt tokens: \([0-9]*\).*/\1/p' "$OUT/bench_serve_7b.txt" 2>/dev/null | head -1)
  run_step hf_serve_reference 150 python3 bench/gpu/hf_serve_reference.py --prompt "${plen:-250}" --new 128 --requests 8 \
    --out "$OUT/hf_serve_reference.json"
else
  [ -x "$bs" ] && run_step bench_serve_tiny 300 "$bs" --clients 1,8,32
fi
log "done; summary:"
sed 's/^/  /' "$summary"
