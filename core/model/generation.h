// Text generation with Qwen2-VL: prefill the prompt(s) once into a static KV cache, then decode token by token
// with greedy or sampled choice (temperature, top-k, top-p, repetition penalty, seeded), stopping on EOS ids and on
// stop strings (checked on decoded text through a callback, so this file needs no tokenizer), for a batch of
// prompts padded left or right (rows are re-aligned to left padding), n candidates per prompt sharing the
// prompt's cache, a per-token callback for streaming, and cancellation between tokens.
// Thread safety: one call at a time per model; `cancel` may be set from another thread.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/model/qwen2vl.h"
#include "core/util/result.h"

namespace matrix::model {

struct SamplingOptions {
    int64_t max_new_tokens = 256;
    bool do_sample = false;  // false: greedy (argmax after the repetition penalty)
    double temperature = 1.0;
    double top_p = 1.0;
    int64_t top_k = 0;  // 0: off
    double repetition_penalty = 1.0;
    uint64_t seed = 0;
    int64_t n = 1;            // candidates per prompt
    bool ignore_eos = false;  // generate max_new_tokens regardless (reference tests)
    std::vector<int64_t> eos_token_ids;     // empty: the model config's
    std::vector<std::string> stop_strings;  // e.g. "<end_action>", "Observation:" (needs a DecodeFn)
    // Per-candidate sampling (empty, or one entry per candidate c < n): candidate c of every prompt uses these
    // instead of do_sample / temperature / repetition_penalty, so groups sampled differently share the prompt's
    // cache (Pref-X: 1 at T 0.7 with penalty 1.05, K-1 at T 1.2). top_k, top_p and the seed stay shared.
    struct CandidateSampling {
        bool do_sample = true;
        double temperature = 1.0;
        double repetition_penalty = 1.0;
    };
    std::vector<CandidateSampling> per_candidate;
    // Greedy on CUDA without a repetition penalty: replay one captured decode step (CUDA graph, see
    // cuda_graph_decode.h) instead of launching every kernel per token. Ignored (eager decoding) elsewhere and in
    // builds whose LibTorch has no CUDA; GenerationResult::cuda_graph says whether it was used.
    bool cuda_graph = false;
    // Testing: the CUDA-graph path's fixed-shape decode step run eagerly (any device, greedy without penalty), so
    // its numerics can be checked where graphs cannot be captured.
    bool static_decode = false;
};

struct GenerationRequest {
    torch::Tensor input_ids;       // [B, L] int64
    torch::Tensor attention_mask;  // [B, L] optional; left or right padding
    torch::Tensor pixel_values;    // optional, images of all rows in row order
    torch::Tensor image_grid_thw;  // [n_images, 3]
};

struct GenerationResult {
    // B * n sequences of new tokens; sequence s = prompt s / n, candidate s % n. Includes the EOS token or the
    // token that completed a stop string.
    std::vector<std::vector<int64_t>> tokens;
    std::vector<std::string> finish_reasons;  // "eos", "stop", "length", "cancelled"
    int64_t prompt_tokens = 0;                // padded prompt length
    // prefill_seconds: prompt forward to the first token picked (device synchronised: time to first token);
    // decode_seconds: the steps after it.
    double prefill_seconds = 0.0, decode_seconds = 0.0;
    int64_t decode_steps = 0;  // forward passes after the prefill
    bool cuda_graph = false;   // the decode steps were CUDA-graph replays
};

using DecodeFn = std::function<std::string(const std::vector<int64_t>& ids)>;
using TokenCallback = std::function<void(int64_t sequence, int64_t token)>;

Result<GenerationResult> generate(Qwen2VL& model, const GenerationRequest& request, const SamplingOptions& options,
                                  const DecodeFn& decode = {}, const TokenCallback& on_token = {},
                                  const std::atomic<bool>* cancel = nullptr);

// The logits processors on one row, as transformers applies them (for tests): [V] float32 in, [V] out.
torch::Tensor apply_repetition_penalty(const torch::Tensor& logits, const std::vector<int64_t>& seen, double penalty);
torch::Tensor apply_top_k_top_p(const torch::Tensor& logits, int64_t top_k, double top_p);

}  // namespace matrix::model
