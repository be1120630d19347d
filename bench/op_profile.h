// OpProfiler: where a piece of LibTorch work spends its time, per operator. For the benchmarks' --profile
// (bench_model: prefill and one decode step; bench_train: one SFT / DPO step).
//  - CPU side, from a RecordFunction observer (the hook LibTorch's profiler is built on: every dispatcher op, forward
//    and backward, on every thread, with exact nesting and nanosecond times): per op name, calls, self time (its time
//    minus the ops it called) and total time; the ops the engine called directly (not from inside another op); and
//    the leaf ops that compute (not views, allocations or metadata): about one kernel each on a GPU.
//  - CUDA side (when profiling CUDA), from LibTorch's Kineto profiler: per kernel name, calls and device time; the
//    kernel and graph launches the CUDA runtime saw, and the device's busy time, so launch-bound work shows as
//    busy << wall.
// The observer's own cost (well under a microsecond an op) inflates small ops on CPU: compare shares and counts, and
// take times from the benchmarks' unprofiled runs.
// Thread safety: one OpProfiler at a time per process; the ops it observes may run on any thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace matrix::bench {

struct OpStat {
    std::string name;
    double calls = 0;  // double: a per-step difference of two profiles can be fractional
    double self_us = 0, total_us = 0;
};

struct OpProfile {
    double wall_us = 0;          // from the profiler's start to stop() (the caller syncs the device first)
    double top_level_ops = 0;    // ops called by the engine itself (not from inside another op)
    double compute_ops = 0;      // leaf ops that compute (not views, allocations or metadata): about one kernel
                                 // each on a GPU, so an eager GPU step launches about this many
    double kernel_launches = 0;  // cudaLaunchKernel and friends, as the CUDA runtime saw them
    double graph_launches = 0;   // cudaGraphLaunch
    double device_busy_us = 0;   // the sum of kernel and memcpy/memset times on the device
    std::vector<OpStat> cpu;     // per op name, by self time, largest first (all threads)
    std::vector<OpStat> device;  // per kernel name, by device time, largest first (self == total)
};

// (a - b) / n per name and per figure: with a = prefill + n decode steps and b = the prefill alone, the cost of one
// decode step. Names whose difference is 0 calls are left out.
OpProfile per_step_difference(const OpProfile& a, const OpProfile& b, double n);

// A table: the summary line, then the `top` largest CPU ops and (if any) device kernels, with their share.
void print_profile(const OpProfile& p, const std::string& title, int top, std::FILE* out = stdout);

class OpProfiler {
public:
    // Starts profiling this thread's LibTorch work (CPU ops; with `cuda`, also the CUDA runtime and kernels).
    explicit OpProfiler(bool cuda);
    ~OpProfiler();  // stops (discarding the events) when stop() was not called
    OpProfiler(const OpProfiler&) = delete;
    OpProfiler& operator=(const OpProfiler&) = delete;

    OpProfile stop();

    struct State;

private:
    std::unique_ptr<State> m_state;
};

}  // namespace matrix::bench
