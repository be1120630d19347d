// Static key/value cache for decoding: one preallocated [B, Hkv, capacity, head_dim] buffer per layer for keys and
// values, filled left to right (no reallocation per token, friendly to CUDA graphs), plus what decoding needs to
// continue a prompt: the number of filled positions, the padding mask over them and M-RoPE's rope_deltas.
// Not thread-safe; owned by one generation call.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/model/config.h"

namespace matrix::model {

struct KVCache {
    std::vector<torch::Tensor> keys, values;  // per layer [B, Hkv, capacity, hd]
    int64_t length = 0;                       // positions filled
    int64_t capacity = 0;
    torch::Tensor attention_mask;  // [B, capacity] int64 on the cache's device: 1 = real token, 0 = padding
    torch::Tensor rope_deltas;     // [B, 1] int64 (CPU), set by the prefill
    torch::Tensor rope_deltas_device;  // the same on the cache's device (made by the first decode step), so decode
                                       // steps compute their position ids there without a host copy
    bool padded = false;           // some row has padding (set by the prefill): decoding then needs a mask

    static KVCache allocate(const TextConfig& cfg, int64_t batch, int64_t capacity, const torch::TensorOptions& options) {
        KVCache c;
        c.capacity = capacity;
        const int64_t hkv = cfg.num_key_value_heads, hd = cfg.attn_head_dim();
        for (int64_t i = 0; i < cfg.num_hidden_layers; ++i) {
            c.keys.push_back(torch::empty({batch, hkv, capacity, hd}, options));
            c.values.push_back(torch::empty({batch, hkv, capacity, hd}, options));
        }
        c.attention_mask = torch::zeros({batch, capacity}, options.dtype(torch::kInt64));
        return c;
    }
    int64_t batch() const { return keys.empty() ? 0 : keys[0].size(0); }

    // Row b becomes rows b*n .. b*n+n-1 (n candidates continuing one prefilled prompt share its cache).
    void repeat_rows(int64_t n) {
        if (n == 1) return;
        for (auto& k : keys) k = k.repeat_interleave(n, 0);
        for (auto& v : values) v = v.repeat_interleave(n, 0);
        attention_mask = attention_mask.repeat_interleave(n, 0);
        if (rope_deltas.defined()) rope_deltas = rope_deltas.repeat_interleave(n, 0);
        rope_deltas_device = torch::Tensor();
    }
};

}  // namespace matrix::model
