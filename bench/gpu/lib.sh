# Sourced by the prepared device runs (device_run.sh, sample_run.sh, serve_run.sh), from the repository root: the
# mode (GPU, or a CPU dry run here), the build folder, the time budget, the step runner with per-step timeouts cut
# to what is left of the budget, and the engine-only configure + build against the machine's LibTorch.

# gpu_run_init DEFAULT_BUDGET_S OUT_NAME [--cpu-dry-run]: sets repo mode build budget jobs dev OUT start summary.
# GPU: build-gpu (MATRIX_GPU_BUILD), budget MATRIX_GPU_BUDGET_S or the default, all cores. CPU dry run: build/gpu-dry,
# no budget to speak of, 2 jobs. Results in $OUT (default <build>/OUT_NAME).
gpu_run_init() {
  repo=$PWD
  mode=gpu
  [ "${3:-}" = "--cpu-dry-run" ] && mode=cpu
  if [ $mode = gpu ]; then
    build=${MATRIX_GPU_BUILD:-build-gpu}; budget=${MATRIX_GPU_BUDGET_S:-$1}; jobs=$(nproc); dev=cuda
  else
    build=build/gpu-dry; budget=${MATRIX_GPU_BUDGET_S:-100000}; jobs=2; dev=cpu
  fi
  OUT=${OUT:-$repo/$build/$2}
  mkdir -p "$OUT"
  start=$(date +%s)
  summary=$OUT/summary.txt
  : > "$summary"
}

log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - start ))s] $*" | tee -a "$OUT/progress.log"; }

# run_step NAME TIMEOUT_S CMD...: output in $OUT/NAME.txt; the timeout is cut to what is left of the budget, and a
# step is skipped (rc 99) when under 25 s are left. The device tool returns only the last 12,000 characters of the
# console: a short tail on success (RUN_STEP_TAIL lines, default 8), 25 lines on failure.
run_step() {
  local name=$1 t=$2 left rc t0
  shift 2
  left=$(( budget - ($(date +%s) - start) ))
  if [ "$left" -lt 25 ]; then
    log "SKIP $name: time budget spent"
    echo "$name: skipped (budget)" >> "$summary"
    return 99
  fi
  [ "$t" -gt "$left" ] && t=$left
  log "start $name (timeout ${t}s): $*"
  t0=$(date +%s)
  timeout -k 10 "$t" "$@" > "$OUT/$name.txt" 2>&1
  rc=$?
  log "end $name: rc=$rc in $(( $(date +%s) - t0 ))s$([ $rc = 124 ] && echo ' (TIMED OUT)')"
  tail -n "$([ $rc = 0 ] && echo "${RUN_STEP_TAIL:-8}" || echo 25)" "$OUT/$name.txt" | cut -c1-220 | sed "s/^/  $name| /"
  echo "$name: rc=$rc $(( $(date +%s) - t0 ))s" >> "$summary"
  return $rc
}

# gpu_step NAME TIMEOUT CMD...: run_step plus "peak GPU memory used" in its output (what the caching allocator holds,
# sampled by nvidia-smi every 250 ms: an upper bound of the peak of live tensors).
gpu_step() {
  local name=$1 rc watcher
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 250 > "$OUT/$name.gpumem" 2>/dev/null &
  watcher=$!
  run_step "$@"
  rc=$?
  kill "$watcher" 2>/dev/null
  wait "$watcher" 2>/dev/null
  echo "peak GPU memory used during $name: $(sort -n "$OUT/$name.gpumem" | tail -1) MiB (nvidia-smi, 250 ms samples)" |
    tee -a "$OUT/$name.txt"
  return $rc
}

# need_device_dir FILE: .device/ (bench/gpu/prepare.sh) holds the headers the GPU machine lacks. Filled here in a dry
# run; on the GPU machine a warning (it must have been carried).
need_device_dir() {
  [ -f ".device/include/$1" ] && return 0
  if [ $mode = cpu ]; then bench/gpu/prepare.sh; else log "WARNING: .device/ lacks $1 (run bench/gpu/prepare.sh, carry .device)"; fi
}

# build_engine GPU_BUILD_TIMEOUT_S GREP_CONFIGURE TARGET...: engine-only configure (no Qt, no OpenCV, no tests) against
# the machine's LibTorch on the GPU (torch.utils.cmake_prefix_path), Debian's here; extra CMake arguments in the
# array build_engine_args. Configure lines matching GREP_CONFIGURE and every compile error are echoed; ninja -k 0 so
# one call reports every broken translation unit (the log is what the next session fixes from).
build_engine() {
  local build_timeout=$1 pattern=$2
  shift 2
  local args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMATRIX_ENGINE_ONLY=ON -DMATRIX_BUILD_TESTS=OFF
              -DMATRIX_EXTRA_INCLUDE_DIR="$repo/.device/include" ${build_engine_args[@]+"${build_engine_args[@]}"})
  [ $mode = gpu ] && args+=(-DCMAKE_PREFIX_PATH="$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')")
  run_step configure 120 cmake "${args[@]}"
  grep -E "$pattern" "$OUT/configure.txt" | head -10 | sed 's/^/  configure| /'
  run_step build "$([ $mode = gpu ] && echo "$build_timeout" || echo 3600)" nice ninja -C "$build" -k 0 -j"$jobs" "$@"
  grep -E 'error|FAILED' "$OUT/build.txt" | head -40 | sed 's/^/  build-errors| /'
}
