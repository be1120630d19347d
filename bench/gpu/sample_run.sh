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
. bench/gpu/lib.sh
gpu_run_init 540 out "${1:-}"

log "mode $mode, repo $repo, build $build, out $OUT, budget ${budget}s, $jobs jobs"
need_device_dir sqlite3.h
build_engine 300 'LibTorch|CUDA|Error|error' bench_sample
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
