// Qwen2 decoder (see text.h). Follows transformers' Qwen2RMSNorm, Qwen2MLP, Qwen2VLAttention (biases on q/k/v,
// none on o; apply_multimodal_rotary_pos_emb; repeat_kv for GQA) and Qwen2VLDecoderLayer.
#include "core/model/text.h"

#include "core/model/activation_checkpoint.h"
#include "core/model/rotary.h"
#include "core/model/sdpa.h"

namespace matrix::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps_, const torch::TensorOptions& options) : eps(eps_) {
    weight = register_parameter("weight", torch::empty({dim}, options));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
    auto h = x.to(torch::kFloat32);
    auto var = h.pow(2).mean(-1, true);
    h = h * torch::rsqrt(var + eps);
    return weight * h.to(x.scalar_type());
}

TextMlpImpl::TextMlpImpl(const TextConfig& cfg, const torch::TensorOptions& options) {
    if (cfg.hidden_act != "silu") throw std::runtime_error("unsupported hidden_act " + cfg.hidden_act);
    gate_proj = register_module("gate_proj", Linear(cfg.hidden_size, cfg.intermediate_size, false, options));
    up_proj = register_module("up_proj", Linear(cfg.hidden_size, cfg.intermediate_size, false, options));
    down_proj = register_module("down_proj", Linear(cfg.intermediate_size, cfg.hidden_size, false, options));
}

torch::Tensor TextMlpImpl::forward(const torch::Tensor& x) { return down_proj(torch::silu(gate_proj(x)) * up_proj(x)); }

TextAttentionImpl::TextAttentionImpl(const TextConfig& cfg, const torch::TensorOptions& options)
    : num_heads(cfg.num_attention_heads), num_kv_heads(cfg.num_key_value_heads), head_dim(cfg.attn_head_dim()) {
    q_proj = register_module("q_proj", Linear(cfg.hidden_size, num_heads * head_dim, true, options));
    k_proj = register_module("k_proj", Linear(cfg.hidden_size, num_kv_heads * head_dim, true, options));
    v_proj = register_module("v_proj", Linear(cfg.hidden_size, num_kv_heads * head_dim, true, options));
    o_proj = register_module("o_proj", Linear(num_heads * head_dim, cfg.hidden_size, false, options));
}

torch::Tensor TextAttentionImpl::forward(const torch::Tensor& x, const AttentionInputs& in, int64_t layer) {
    const int64_t B = x.size(0), L = x.size(1);
    auto q = q_proj(x).view({B, L, num_heads, head_dim}).transpose(1, 2);     // [B, H, L, hd]
    auto k = k_proj(x).view({B, L, num_kv_heads, head_dim}).transpose(1, 2);  // [B, Hkv, L, hd]
    auto v = v_proj(x).view({B, L, num_kv_heads, head_dim}).transpose(1, 2);
    q = apply_rotary(q, in.cos, in.sin);
    k = apply_rotary(k, in.cos, in.sin);
    if (in.record) {
        if (static_cast<int64_t>(in.record->keys.size()) <= layer) {
            in.record->keys.resize(layer + 1);
            in.record->values.resize(layer + 1);
        }
        in.record->keys[layer] = k;
        in.record->values[layer] = v;
    }
    if (in.prefix) {  // [B, Hkv, P + L, hd]: the shared prefix's keys/values, then this forward's
        k = torch::cat({in.prefix->keys.at(layer), k}, 2);
        v = torch::cat({in.prefix->values.at(layer), v}, 2);
    }
    if (in.cache) {
        KVCache& c = *in.cache;
        const int64_t past = c.length;
        if (past + L > c.capacity) throw std::runtime_error("KV cache capacity exceeded");
        c.keys[layer].narrow(2, past, L).copy_(k);
        c.values[layer].narrow(2, past, L).copy_(v);
        k = c.keys[layer].narrow(2, 0, past + L);
        v = c.values[layer].narrow(2, 0, past + L);
    }
    torch::Tensor out;  // [B, H, L, hd]
    if (!in.segments.empty()) {
        std::vector<torch::Tensor> parts;
        int64_t at = 0;
        for (int64_t n : in.segments) {
            parts.push_back(attention(q.narrow(2, at, n), k.narrow(2, at, n), v.narrow(2, at, n), torch::Tensor(), true));
            at += n;
        }
        out = torch::cat(parts, 2);
    } else {
        out = attention(q, k, v, in.mask, in.causal);
    }
    return o_proj(out.transpose(1, 2).reshape({B, L, num_heads * head_dim}));
}

PrefixKV PrefixKV::tiled(int64_t n) const {
    if (n == 1) return *this;
    auto tile = [n](const torch::Tensor& t) {
        std::vector<int64_t> shape = t.sizes().vec();
        if (shape[0] == 1) {
            shape[0] = n;
            return t.expand(shape);
        }
        std::vector<int64_t> rep(t.dim(), 1);
        rep[0] = n;
        return t.repeat(rep);
    };
    PrefixKV out;
    for (const auto& k : keys) out.keys.push_back(tile(k));
    for (const auto& v : values) out.values.push_back(tile(v));
    return out;
}

DecoderLayerImpl::DecoderLayerImpl(const TextConfig& cfg, const torch::TensorOptions& options) {
    self_attn = register_module("self_attn", TextAttention(cfg, options));
    mlp = register_module("mlp", TextMlp(cfg, options));
    input_layernorm = register_module("input_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, options));
    post_attention_layernorm =
        register_module("post_attention_layernorm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, options));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const AttentionInputs& in, int64_t layer) {
    auto h = x + self_attn(input_layernorm(x), in, layer);
    return h + mlp(post_attention_layernorm(h));
}

TextModelImpl::TextModelImpl(const TextConfig& c, const torch::TensorOptions& options) : cfg(c) {
    embed_tokens = register_module("embed_tokens", Weight(torch::empty({cfg.vocab_size, cfg.hidden_size}, options)));
    layers = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) layers->push_back(DecoderLayer(cfg, options));
    norm = register_module("norm", RMSNorm(cfg.hidden_size, cfg.rms_norm_eps, options));
}

torch::Tensor TextModelImpl::forward(const torch::Tensor& inputs_embeds, const AttentionInputs& in, const Tap* tap) {
    auto h = inputs_embeds;
    tap_call(tap, "text.embeds", -1, h);
    const bool checkpoint = gradient_checkpointing && torch::GradMode::is_enabled() && !in.cache;
    for (size_t i = 0; i < layers->size(); ++i) {
        auto& layer = layers->at<DecoderLayerImpl>(i);
        h = checkpoint ? checkpointed_layer(layer, h, in, static_cast<int64_t>(i))
                       : layer.forward(h, in, static_cast<int64_t>(i));
        tap_call(tap, "text.layer", static_cast<int>(i), h);
    }
    if (in.cache) in.cache->length += inputs_embeds.size(1);
    h = norm(h);
    tap_call(tap, "text.norm", -1, h);
    return h;
}

}  // namespace matrix::model
