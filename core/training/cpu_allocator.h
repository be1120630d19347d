// CPU training and glibc's allocator: a training step allocates and frees tensors of tens to hundreds of MiB
// (attention scores [B, heads, L, L], logits [B, L, vocab]). glibc serves those with mmap and returns them with
// munmap, so every step faults fresh zero pages in again: with the tiny model at 4K tokens the process spent more
// system than user time (bench/results/train.md). keep_freed_memory_for_reuse() raises glibc's mmap and trim
// thresholds so freed blocks stay in the heap and are reused. Process-wide and idempotent; a no-op off glibc or
// when MATRIX_MALLOC_DEFAULT=1 is set. It helps allocations on the main arena (the CLI's training thread); threads
// with their own arena still mmap blocks above 64 MiB.
#pragma once

#include <string>

namespace matrix::train {

// Returns a one-line description of what was set ("" when nothing was).
std::string keep_freed_memory_for_reuse();

}  // namespace matrix::train
