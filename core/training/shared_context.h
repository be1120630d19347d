// Step-wise DPO with the common context forwarded once: chosen and rejected share the context (system + task +
// images + history), so the context runs through the decoder once, recording every layer's keys and values with
// grad, and the two actions run as a batch of continuations attending to those keys/values (tiled, not recomputed).
// Gradients of both actions flow back through the context's keys/values into its LoRA weights, so the result
// equals two full forwards of context + action (tests/core/training/test_training_fixture.cpp checks 1e-5).
// The context's last token moves into the continuation, so the context forward needs no LM head at all.
// Throws std::runtime_error on bad input (like Qwen2VLImpl::forward); one call at a time per model.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/model/qwen2vl.h"

namespace matrix::train {

struct PairTokens {
    std::vector<int32_t> prompt;             // the context; ends with the assistant header (text)
    std::vector<int32_t> chosen, rejected;   // the two actions (text only)
};

struct PairLogps {
    torch::Tensor logps;   // [2B] float32: summed action log-probs, chosen 1..B then rejected 1..B (differentiable)
    torch::Tensor counts;  // [2B] action token counts
    int64_t tokens = 0;    // tokens run through the decoder (contexts once + continuations)
};

// pixel_values / image_grid_thw: the images of the prompts in order (undefined when none). pad_id fills padding.
PairLogps shared_context_logps(model::Qwen2VLImpl& net, const std::vector<PairTokens>& pairs,
                               const torch::Tensor& pixel_values, const torch::Tensor& image_grid_thw, int64_t pad_id);

}  // namespace matrix::train
