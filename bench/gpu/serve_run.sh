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
. bench/gpu/lib.sh
gpu_run_init 540 "$([ "${1:-}" = --cpu-dry-run ] && echo out-serve || echo out)" "${1:-}"
RUN_STEP_TAIL=14
need_device_dir httplib.h
{ date -u; nvidia-smi 2>/dev/null | head -15; python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)' 2>&1; nproc; } > "$OUT/env.txt" 2>&1

# ---- 1. configure + build (engine only) ----
build_engine_args=(-DMATRIX_EXTRA_LIB_DIR="$repo/.device/lib")
build_engine 330 'LibTorch|serve|Error|error' matrix bench_serve
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
