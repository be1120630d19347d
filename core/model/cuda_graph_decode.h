// Greedy decoding on CUDA by replaying one captured decode step (a CUDA graph) per token. Eager decoding of a
// 7B model at batch 1 launches ~600 small kernels per token, and the launches, not the GPU, set the pace; a graph
// launches them all at once. The captured step has fixed shapes: it writes the new key/value at a position held
// in a device tensor (index_copy_) and attends over the whole static cache with a mask, instead of narrowing the
// cache to its filled length as the eager step does. Compiled in only when LibTorch has CUDA (MATRIX_HAVE_CUDA,
// set by CMake when torch_cuda exists); elsewhere create() with capture returns an error and available() is false.
// Not thread-safe; one decoder per generation call, used on the thread that created it.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "core/model/kv_cache.h"
#include "core/model/qwen2vl.h"
#include "core/util/result.h"

namespace matrix::model {

// Whether this build can capture CUDA graphs (LibTorch with CUDA).
bool cuda_graph_decoding_available();

class CudaGraphDecoder {
public:
    // For `model` (on CUDA, eval, no grad) and `cache` filled by the prefill (length = prompt length, rows final:
    // after KVCache::repeat_rows). The cache must have room for every step; it is advanced by step().
    // capture = false: the same fixed-shape step run eagerly on any device, no graph (tests check its tokens
    // against eager decoding on the CPU, where graphs do not exist).
    static Result<std::unique_ptr<CudaGraphDecoder>> create(Qwen2VL& model, KVCache& cache, bool capture = true);
    // One greedy step: `ids` [R] int64 on the device are the tokens just chosen; returns the next greedy tokens
    // [R] int64 on the device (valid until the next call). With capture, the first call runs eagerly and captures
    // the graph; later calls replay it.
    torch::Tensor step(const torch::Tensor& ids);
    ~CudaGraphDecoder();

    struct State;

private:
    explicit CudaGraphDecoder(std::unique_ptr<State> s);
    std::unique_ptr<State> m_state;
};

}  // namespace matrix::model
