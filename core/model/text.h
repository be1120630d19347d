// The Qwen2 language model of Qwen2-VL: token embedding, decoder layers (RMSNorm -> GQA attention with M-RoPE ->
// residual -> RMSNorm -> SwiGLU MLP -> residual), final RMSNorm. Registered names equal the checkpoint's
// (model.embed_tokens, model.layers.N.self_attn.q_proj, model.norm ...). Autograd-friendly when no cache is given.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/model/config.h"
#include "core/model/kv_cache.h"
#include "core/model/lora.h"
#include "core/model/tap.h"

namespace matrix::model {

class RMSNormImpl : public torch::nn::Module {
public:
    RMSNormImpl(int64_t dim, double eps, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);  // normalised in float32, weight applied in the input dtype
    torch::Tensor weight;
    double eps;
};
TORCH_MODULE(RMSNorm);

class TextMlpImpl : public torch::nn::Module {
public:
    TextMlpImpl(const TextConfig& cfg, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);  // down(silu(gate(x)) * up(x))
    Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(TextMlp);

// Differentiable keys/values of a shared prefix, per layer (training-time prefix sharing, e.g. DPO's context
// forwarded once for chosen and rejected). Unlike KVCache these are ordinary autograd tensors, not preallocated
// buffers, so gradients flow from the continuation's loss back through the prefix's keys and values.
struct PrefixKV {
    std::vector<torch::Tensor> keys, values;  // per layer [B, Hkv, P, head_dim], keys after rotary
    int64_t length() const { return keys.empty() ? 0 : keys[0].size(2); }
    // Rows tiled n times: [B, ...] -> [n*B, ...], row i*B + b = row b (a no-copy expand when B == 1).
    PrefixKV tiled(int64_t n) const;
};

// What every layer of one forward shares: rotary tables and the mask.
struct AttentionInputs {
    torch::Tensor cos, sin;  // [B, 1, L, head_dim]
    torch::Tensor mask;      // additive [B, 1, L, past + L] or undefined
    bool causal = false;     // when mask is undefined: plain causal (past == 0)
    // Packed training rows (B == 1, no past, no mask): the lengths of the sequences laid end to end in the row;
    // each attends causally within itself only (attention runs per sequence, so nothing is computed across them).
    std::vector<int64_t> segments;
    KVCache* cache = nullptr;
    // Training-time prefix sharing (autograd-friendly; not with `cache`): `prefix` keys/values are attended before
    // this forward's own (past = prefix length); `record` receives this forward's keys/values per layer.
    const PrefixKV* prefix = nullptr;
    PrefixKV* record = nullptr;
};

class TextAttentionImpl : public torch::nn::Module {
public:
    TextAttentionImpl(const TextConfig& cfg, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in, int64_t layer);
    Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
    int64_t num_heads, num_kv_heads, head_dim;
};
TORCH_MODULE(TextAttention);

class DecoderLayerImpl : public torch::nn::Module {
public:
    DecoderLayerImpl(const TextConfig& cfg, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x, const AttentionInputs& in, int64_t layer);
    RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
    TextAttention self_attn{nullptr};
    TextMlp mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

class TextModelImpl : public torch::nn::Module {
public:
    TextModelImpl(const TextConfig& cfg, const torch::TensorOptions& options);
    // inputs_embeds [B, L, H] -> final-normed hidden states [B, L, H]; advances in.cache->length by L.
    // With gradient_checkpointing and grad mode on (no cache), each decoder layer keeps only its inputs and is
    // recomputed in backward (activation_checkpoint.h): activation memory of one layer instead of all of them.
    torch::Tensor forward(const torch::Tensor& inputs_embeds, const AttentionInputs& in, const Tap* tap = nullptr);
    torch::Tensor embed(const torch::Tensor& input_ids) { return torch::embedding(embed_tokens->weight, input_ids); }
    TextConfig cfg;
    Weight embed_tokens{nullptr};  // [vocab, H]
    torch::nn::ModuleList layers{nullptr};
    RMSNorm norm{nullptr};
    bool gradient_checkpointing = false;
};
TORCH_MODULE(TextModel);

}  // namespace matrix::model
