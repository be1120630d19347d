// Assembling decode batches from KV caches (see batch_kv.h).
#include "core/serve/engine/batch_kv.h"

namespace matrix::serve {

model::KVCache merge_caches(const std::vector<BatchSource>& sources, int64_t extra_capacity,
                            const model::TextConfig& cfg) {
    int64_t rows = 0, T = 0;
    torch::TensorOptions opts;
    for (const auto& s : sources) {
        if (s.rows.empty()) continue;
        rows += static_cast<int64_t>(s.rows.size());
        T = std::max(T, s.cache->length - s.start);
        opts = s.cache->keys.at(0).options();
    }
    model::KVCache out;
    if (rows == 0) return out;
    out.capacity = T + std::max<int64_t>(extra_capacity, 1);
    out.length = T;
    const int64_t hkv = cfg.num_key_value_heads, hd = cfg.attn_head_dim();
    for (int64_t l = 0; l < cfg.num_hidden_layers; ++l) {
        // Zeros, not empty: padding columns are read (with weight 0) and must not hold NaN.
        out.keys.push_back(torch::zeros({rows, hkv, out.capacity, hd}, opts));
        out.values.push_back(torch::zeros({rows, hkv, out.capacity, hd}, opts));
    }
    out.attention_mask = torch::zeros({rows, out.capacity}, opts.dtype(torch::kInt64));
    std::vector<int64_t> deltas;
    deltas.reserve(rows);
    int64_t offset = 0;
    for (const auto& s : sources) {
        if (s.rows.empty()) continue;
        const int64_t n = static_cast<int64_t>(s.rows.size());
        const int64_t span = s.cache->length - s.start;  // columns copied
        const int64_t shift = T - s.cache->length;       // column c of the source lands at c + shift
        auto idx = torch::tensor(s.rows, torch::kInt64);
        auto idx_dev = idx.to(opts.device());
        for (size_t l = 0; l < s.cache->keys.size(); ++l) {
            out.keys[l].narrow(0, offset, n).narrow(2, T - span, span)
                .copy_(s.cache->keys[l].index_select(0, idx_dev).narrow(2, s.start, span));
            out.values[l].narrow(0, offset, n).narrow(2, T - span, span)
                .copy_(s.cache->values[l].index_select(0, idx_dev).narrow(2, s.start, span));
        }
        out.attention_mask.narrow(0, offset, n).narrow(1, T - span, span)
            .copy_(s.cache->attention_mask.index_select(0, idx_dev).narrow(1, s.start, span));
        // The next position of a row is length + delta; its length grows by `shift`, so its delta shrinks by it.
        auto rd = s.cache->rope_deltas.defined() ? s.cache->rope_deltas.to(torch::kCPU, torch::kInt64).view({-1})
                                                 : torch::zeros({s.cache->batch()}, torch::kInt64);
        for (int64_t r : s.rows) deltas.push_back(rd[r].item<int64_t>() - shift);
        out.padded = out.padded || s.start + shift > 0;
        offset += n;
    }
    out.rope_deltas = torch::tensor(deltas, torch::kInt64).view({rows, 1});
    return out;
}

}  // namespace matrix::serve
