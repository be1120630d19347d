#!/usr/bin/env bash
# The prepared GPU run for the step-sampling benchmark: engine-only build of bench_sample against the
# machine's LibTorch + CUDA, then one Pref-X step of K = 5 candidates on a Qwen2-VL-7B-shaped bf16 model with a
# 3,072-token prompt holding one 448x448 image, 256 new tokens each: our shared-prompt batch (one prefill, five
# streams over one read of the weights) and the prompt copied five times, then HF transformers on the same card
# (num_return_sequences=5; the anchor measured with HF: 248 tokens/s on an H200; target >= 700). Everything lands in $OUT
# (progress.log, summary.txt, one file per step). Every step has a timeout and the run a budget
# (MATRIX_GPU_BUDGET_S, default 540 s). Prepare .device/ first (bench/gpu/prepare.sh) and carry it, as for
# device_run.sh:
#   bench/gpu/sample_run.sh                 on the GPU machine (repository root = working directory)
#   bench/gpu/sample_run.sh --cpu-dry-run   here: the same build (engine-only, build/gpu-dry) and a small CPU run
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
mode=gpu
[ "${1:-}" = "--cpu-dry-run" ] && mode=cpu
if [ $mode = gpu ]; then
  build=${MATRIX_GPU_BUILD:-build-gpu}; budget=${MATRIX_GPU_BUDGET_S:-540}; jobs=$(nproc); OUT=${OUT:-$repo/$build/out}
else
  build=build/gpu-dry; budget=${MATRIX_GPU_BUDGET_S:-100000}; jobs=2; OUT=${OUT:-$repo/build/gpu-dry/out}
fi
mkdir -p "$OUT"
start=$(date +%s)
summary=$OUT/summary.txt
: > "$summary"
log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - start ))s] $*" | tee -a "$OUT/progress.log"; }
run_step() {  # NAME TIMEOUT CMD...: output in $OUT/NAME.txt, the timeout cut to what is left of the budget
  local name=$1 t=$2 left rc t0
  shift 2
  left=$(( budget - ($(date +%s) - start) ))
  if [ "$left" -lt 25 ]; then log "SKIP $name: time budget spent"; echo "$name: skipped (budget)" >> "$summary"; return 99; fi
  [ "$t" -gt "$left" ] && t=$left
  log "start $name (timeout ${t}s): $*"
  t0=$(date +%s)
  timeout -k 10 "$t" "$@" > "$OUT/$name.txt" 2>&1
  rc=$?
  log "end $name: rc=$rc in $(( $(date +%s) - t0 ))s$([ $rc = 124 ] && echo ' (TIMED OUT)')"
  tail -n "$([ $rc = 0 ] && echo 8 || echo 25)" "$OUT/$name.txt" | cut -c1-220 | sed "s/^/  $name| /"
  echo "$name: rc=$rc $(( $(date +%s) - t0 ))s" >> "$summary"
  return $rc
}

log "mode $mode, repo $repo, build $build, out $OUT, budget ${budget}s, $jobs jobs"
if [ ! -f .device/include/sqlite3.h ]; then
  if [ $mode = cpu ]; then bench/gpu/prepare.sh; else log "WARNING: .device/ missing (run bench/gpu/prepare.sh and carry .device)"; fi
fi
cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMATRIX_ENGINE_ONLY=ON -DMATRIX_BUILD_TESTS=OFF
            -DMATRIX_EXTRA_INCLUDE_DIR="$repo/.device/include")
[ $mode = gpu ] && cmake_args+=(-DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
run_step configure 120 cmake "${cmake_args[@]}"
run_step build "$([ $mode = gpu ] && echo 300 || echo 3600)" nice ninja -C "$build" -k 0 -j"$jobs" bench_sample
grep -E 'error|FAILED' "$OUT/build.txt" | head -30 | sed 's/^/  build-errors| /'
bs=$build/bench/bench_sample
if [ $mode = gpu ]; then
  [ -x "$bs" ] && run_step bench_sample_7b 240 "$bs" --7b --device cuda --dtype bf16 --prompt 3072 --new 256 --k 5 --repeats 2
  run_step hf_sample_reference 220 python3 bench/gpu/hf_sample_reference.py --prompt 3072 --new 256 --k 5 \
    --out "$OUT/hf_sample_reference.json"
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1
else
  [ -x "$bs" ] && run_step bench_sample_tiny 900 "$bs" --device cpu --prompt 3072 --new 64 --repeats 1
  run_step hf_sample_syntax 30 python3 -c 'import ast; ast.parse(open("bench/gpu/hf_sample_reference.py").read()); print("parses")'
fi
log "done in $(( $(date +%s) - start ))s"
echo "==== summary ($mode) ===="
cat "$summary"
echo "==== figures ===="
grep -hE 'tok/s|HF sample' "$OUT"/*.txt 2>/dev/null | head -20
