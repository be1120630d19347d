#!/usr/bin/env bash
# The one prepared run on a lent GPU machine (numerics, decode and training speed): engine-only build against the machine's LibTorch 2.x
# + CUDA, a numerics check on CUDA against the HF fixture, the 7B-shaped decode and training benchmarks, and HF
# transformers' own figures for the same shapes on the same card. Everything lands in $OUT (progress.log,
# summary.txt, one file per step); the console shows progress with timestamps and each step's tail.
# Every step has a timeout and the whole run a budget (MATRIX_GPU_BUDGET_S, default 530 s), so a hang or a failed
# step costs only itself: later steps still run. See bench/gpu/README.md (prepare .device/ first, carry it).
#   bench/gpu/device_run.sh                 on the GPU machine (repository root = working directory)
#   bench/gpu/device_run.sh --cpu-dry-run   here: same configure/build (engine-only, Debian's LibTorch, build dir
#                                           build/gpu-dry), CPU versions of the checks, no 7B steps, no budget
set -u
cd "$(dirname "$0")/../.."
. bench/gpu/lib.sh
gpu_run_init 530 out "${1:-}"

log "mode $mode, repo $repo, build $build, out $OUT, budget ${budget}s, $jobs jobs"
need_device_dir sqlite3.h

# ---- 0. the machine ----
{
  date -u
  nvidia-smi 2>&1 | head -20
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>&1
  python3 -c 'import transformers; print("transformers", transformers.__version__)' 2>&1
  python3 -c 'import peft; print("peft", peft.__version__)' 2>&1
  cmake --version | head -1; g++ --version | head -1; ninja --version; nproc; free -g | head -2
} > "$OUT/env.txt" 2>&1
sed 's/^/  env| /' "$OUT/env.txt" | grep -E 'torch|transformers|peft|cmake|g\+\+|NVIDIA-SMI|MiB' | head -12

# ---- 1. configure + build (engine only: no Qt, no OpenCV) ----
build_engine 330 'LibTorch|CUDA|Error|error' matrix bench_model bench_train
bm=$build/bench/bench_model
bt=$build/bench/bench_train
cli=$build/app/matrix
fx=$repo/tests/data/external/fixtures/qwen2vl-tiny

# ---- 2a. numerics on the device: logits, position ids, greedy tokens, CUDA graph vs eager ----
if [ -x "$bm" ]; then
  run_step check "$([ $mode = gpu ] && echo 120 || echo 600)" "$bm" --check --device $dev --fixture "$fx"
else
  log "no bench_model binary: numerics check skipped"; echo "check: no binary" >> "$summary"
fi
# ---- 2b. the same through the CLI: `matrix forward` on the case-1 inputs, compared without torch ----
if [ -x "$cli" ]; then
  python3 bench/gpu/fixture_io.py inputs "$fx/reference.safetensors" "$OUT/case1_inputs.safetensors" > /dev/null &&
    run_step cli_forward 90 "$cli" forward --model "$fx/tiny-qwen2vl" --inputs "$OUT/case1_inputs.safetensors" \
      --out "$OUT/case1_out.safetensors" --device $dev &&
    run_step cli_compare 60 python3 bench/gpu/fixture_io.py compare "$OUT/case1_out.safetensors" "$fx/reference.safetensors" \
      --tol "$([ $mode = gpu ] && echo 1e-3 || echo 1e-4)"
  rm -f "$OUT/case1_out.safetensors" "$OUT/case1_inputs.safetensors"
fi

if [ $mode = gpu ]; then
  # ---- 3. decode: 7B-shaped bf16, 1024-token prompt with a 448x448 image, 128 new tokens (HF anchor 51 tok/s on
  #         H200; target >= 150); eager and CUDA-graph decoding ----
  [ -x "$bm" ] && gpu_step bench_model_7b 170 "$bm" --7b --device cuda --dtype bf16 --prompt 1024 --new 128 --repeats 2 --cuda-graph
  # ---- 4. training: SFT and DPO, 7B-shaped bf16, LoRA r=16, sequence 2048 (HF: SFT 7,971 tok/s, DPO 1.70 pairs/s) ----
  [ -x "$bt" ] && gpu_step bench_train_gpu 200 "$bt" --gpu --steps 4
  # ---- 5. HF transformers on this card, same shapes, random weights (decode, then SFT/DPO when peft is there) ----
  gpu_step hf_reference 200 python3 bench/gpu/hf_reference.py --out "$OUT/hf_reference.json"
  # ---- 6. the session-7 training changes against their old forms: the optimizer step alone (multi-tensor AdamW
  #         vs the per-parameter loop, with their drift), and SFT with logits over every position ----
  [ -x "$bt" ] && gpu_step bench_train_optim 40 "$bt" --gpu --only optim --steps 50
  [ -x "$bt" ] && gpu_step bench_train_full_logits 70 "$bt" --gpu --only sft --full-logits --steps 3
  # ---- 7. gradient checkpointing memory/speed (least important) ----
  [ -x "$bt" ] && gpu_step bench_train_ckpt 70 "$bt" --gpu --only sft --grad-ckpt --steps 3
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1
else
  [ -x "$bm" ] && run_step bench_model_tiny 900 "$bm" --device cpu --repeats 1 --cuda-graph
  [ -x "$bt" ] && run_step bench_train_cpu 900 "$bt" --seq 256 --steps 1
  [ -x "$bt" ] && run_step bench_train_optim_cpu 120 "$bt" --only optim --steps 20
  run_step hf_reference_syntax 30 python3 -c 'import ast,sys; ast.parse(open("bench/gpu/hf_reference.py").read()); print("hf_reference.py parses")'
fi

log "done in $(( $(date +%s) - start ))s"
echo "==== summary ($mode) ===="
cat "$summary"
echo "==== figures ===="
grep -hE '^check |check (PASSED|FAILED)|matrix forward case1|tok/s|tokens/s|pairs/s|graph vs eager|peak|HF |bench_train: |AdamW over ' "$OUT"/*.txt 2>/dev/null | head -60
