// Qwen2VLForConditionalGeneration in LibTorch: vision tower + Qwen2 LM + LM head, numerically equal to HF
// transformers (tests/core/model/test_model.cpp checks it against the fixture). Parameters are named as the
// published checkpoint keys (model.*, visual.*, lm_head.weight), so loading is a name lookup (weights.h).
// forward() is autograd-friendly without a cache (training builds on it: sequence_logps / lm_loss);
// with a KVCache it serves generation (generation.h).
// Thread safety: one forward at a time per model instance.
#pragma once

#include <torch/torch.h>

#include <string>

#include "core/model/config.h"
#include "core/model/kv_cache.h"
#include "core/model/lora.h"
#include "core/model/tap.h"
#include "core/model/text.h"
#include "core/model/vision.h"
#include "core/util/result.h"

namespace matrix::model {

struct ForwardInput {
    torch::Tensor input_ids;       // [B, L] int64
    torch::Tensor attention_mask;  // [B, L] 1/0, optional (with a cache: covers only the new tokens)
    torch::Tensor pixel_values;    // [N, patch_dim], optional
    torch::Tensor image_grid_thw;  // [n_images, 3], with pixel_values
    torch::Tensor position_ids;    // [3, B, L], optional: computed by get_rope_index / from the cache when absent
    KVCache* cache = nullptr;      // decoding: keys/values appended, length advanced
    int64_t logits_to_keep = 0;    // 0: logits for every position; k: only the last k
    // Training: logits only at these rows of the flattened [B * L] positions ([N] int64 on the model's device;
    // the labelled positions), so the LM head runs on N rows, not B * L. Logits are then [N, vocab]. Not with
    // logits_to_keep.
    torch::Tensor logit_rows;
    const Tap* tap = nullptr;
    // Training-time prefix sharing (autograd-friendly, not with `cache`): `record` receives every layer's keys and
    // values of this forward; `prefix` (batch B, P positions) is attended before this forward's tokens, which then
    // need explicit position_ids; prefix_mask [B, P] marks its real positions (undefined = all real).
    PrefixKV* record = nullptr;
    const PrefixKV* prefix = nullptr;
    torch::Tensor prefix_mask;
    bool skip_logits = false;      // run for the side effects only (record / cache): no LM head, logits undefined
    // Training without padding: input_ids [1, sum of segments] holds these sequences end to end; each gets its own
    // positions and attends only to itself, exactly as if it were its own row of a padded batch. pixel_values and
    // image_grid_thw hold their images in the same order. Not with a cache, a prefix or an attention_mask.
    std::vector<int64_t> segments;
};

struct ForwardOutput {
    torch::Tensor logits;        // [B, L or k, vocab] in the model dtype; [N, vocab] with logit_rows
    torch::Tensor position_ids;  // [3, B, L] int64 (CPU; on the model's device for decode steps with a cache)
    torch::Tensor rope_deltas;   // [B, 1] int64 (CPU)
};

class Qwen2VLImpl : public torch::nn::Module {
public:
    Qwen2VLImpl(const Qwen2VLConfig& cfg, const torch::TensorOptions& options);
    ForwardOutput forward(const ForwardInput& in);  // throws on bad input; see run_forward for the Result form
    // Vision tower output after the merger: [n_image_tokens, hidden].
    torch::Tensor image_features(const torch::Tensor& pixel_values, const torch::Tensor& grid_thw, const Tap* tap = nullptr);
    torch::Tensor lm_head_forward(const torch::Tensor& hidden);  // untied: lm_head; tied: embed_tokens^T
    torch::Tensor packed_position_ids(const torch::Tensor& ids, const torch::Tensor& grid_thw,
                                      const std::vector<int64_t>& segments) const;

    torch::Device device() const { return model->embed_tokens->weight.device(); }
    torch::ScalarType dtype() const { return model->embed_tokens->weight.scalar_type(); }

    Qwen2VLConfig cfg;
    TextModel model{nullptr};
    VisionTower visual{nullptr};
    Linear lm_head{nullptr};  // absent when tie_word_embeddings
};
TORCH_MODULE(Qwen2VL);

struct LoadOptions {
    torch::ScalarType dtype = torch::kFloat32;
    torch::Device device = torch::kCPU;
};

// Loads config.json (+ generation_config.json) and the weights of a model directory. Errors name the phase and
// the tensor ("loading weights: tensor model.norm.weight is missing from the checkpoint").
Result<Qwen2VL> load_qwen2vl(const std::string& model_dir, const LoadOptions& options = {});
// A model with the config's shapes and random weights (normal, std 0.02; norms 1), for benchmarks.
Result<Qwen2VL> random_qwen2vl(const Qwen2VLConfig& cfg, const LoadOptions& options, uint64_t seed = 0);

// forward() with LibTorch exceptions turned into an Error ("forward: ...").
Result<ForwardOutput> run_forward(Qwen2VL& model, const ForwardInput& in);

// Sum over each row of log p(label_t | tokens < t) for labelled tokens (label != -100), with HF's shift
// (logits[:, t-1] predicts labels[:, t]). logits [B, L, V], labels [B, L] -> [B] float32, differentiable.
torch::Tensor sequence_logps(const torch::Tensor& logits, const torch::Tensor& labels);
// Mean token cross-entropy over labelled tokens with the same shift (HF ForCausalLMLoss): a scalar float32.
torch::Tensor lm_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// Additive attention mask [B, 1, L, past + L] in `dtype` for queries at positions past..past+L-1 over keys
// 0..past+L-1, from a key padding mask [B, past + L] (1 = real); undefined key mask = no padding.
torch::Tensor build_attention_mask(const torch::Tensor& key_mask, int64_t batch, int64_t past, int64_t length,
                                   torch::ScalarType dtype, torch::Device device);

}  // namespace matrix::model
