#!/usr/bin/env bash
# The prepared GPU run for issue 18's first step, "profile first": engine-only build of bench_model and bench_train
# against the machine's LibTorch + CUDA, then LibTorch's profiler (bench/op_profile.h: a RecordFunction observer for
# the ops, Kineto for the kernels) over
#   - decode on the 7B-shaped bf16 model (1,024-token prompt with a 448x448 image): the prefill, and one decode step
#     as the mean of 16, eager and with the CUDA graph: op calls, kernel launches, kernels by device time and the
#     device's busy time per step (launch-bound when busy << wall);
#   - one SFT step and one DPO step of each form (naive, batched, shared context) at L=2048, LoRA r=16, and the DPO
#     reference precompute once more (the 2 s vs 0.34 s per pair seen in two runs: where its time goes).
# Everything lands in $OUT (progress.log, summary.txt, one file per step). Every step has a timeout and the run a
# budget (MATRIX_GPU_BUDGET_S, default 540 s). Prepare .device/ first (bench/gpu/prepare.sh) and carry it, as for
# device_run.sh:
#   bench/gpu/profile_run.sh                 on the GPU machine (repository root = working directory)
#   bench/gpu/profile_run.sh --cpu-dry-run   here: the same build (engine-only, build/gpu-dry) and the tiny model's
#                                            profiles on the CPU
set -u
cd "$(dirname "$0")/../.."
. bench/gpu/lib.sh
gpu_run_init 540 out "${1:-}"

log "mode $mode, repo $repo, build $build, out $OUT, budget ${budget}s, $jobs jobs"
need_device_dir sqlite3.h
build_engine 300 'LibTorch|CUDA|Error|error' bench_model bench_train
bm=$build/bench/bench_model
bt=$build/bench/bench_train
if [ $mode = gpu ]; then
  [ -x "$bm" ] && gpu_step profile_decode_7b 200 "$bm" --7b --device cuda --dtype bf16 --prompt 1024 --new 32 \
    --repeats 1 --cuda-graph --profile 16
  [ -x "$bt" ] && gpu_step profile_train_7b 240 "$bt" --gpu --steps 1 --profile
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1
else
  [ -x "$bm" ] && run_step profile_decode_tiny 900 "$bm" --device cpu --repeats 1 --profile 16
  [ -x "$bt" ] && run_step profile_train_tiny 900 "$bt" --seq 256 --steps 1 --profile
fi
log "done in $(( $(date +%s) - start ))s"
echo "==== summary ($mode) ===="
cat "$summary"
echo "==== figures ===="
grep -hE '^profile |^decode step|tok/s|tokens/s|pairs/s' "$OUT"/*.txt 2>/dev/null | cut -c1-240 | head -40
