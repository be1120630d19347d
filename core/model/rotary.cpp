// Rotary embeddings and M-RoPE indices (see rotary.h). Mirrors transformers' modeling_qwen2_vl.py:
// VisionRotaryEmbedding + Qwen2VisionTransformerPretrainedModel.rot_pos_emb, Qwen2VLRotaryEmbedding,
// apply_multimodal_rotary_pos_emb and get_rope_index (images; video grids are not supported here).
#include "core/model/rotary.h"

#include <algorithm>
#include <stdexcept>

namespace matrix::model {

RopeIndex get_rope_index(const Qwen2VLConfig& cfg, const torch::Tensor& input_ids_in, const torch::Tensor& grid_in,
                         const torch::Tensor& mask_in) {
    auto ids = input_ids_in.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t B = ids.size(0), L = ids.size(1);
    torch::Tensor mask = mask_in.defined() ? mask_in.to(torch::kCPU, torch::kInt64).contiguous()
                                           : torch::ones({B, L}, torch::kInt64);
    RopeIndex out;
    if (!grid_in.defined() || grid_in.numel() == 0) {
        if (mask_in.defined()) {
            auto pos = mask.cumsum(-1) - 1;
            pos.masked_fill_(mask == 0, 1);
            out.position_ids = pos.unsqueeze(0).expand({3, B, L}).contiguous();
            auto maxpos = std::get<0>(pos.max(-1, true));
            out.rope_deltas = maxpos + 1 - L;
        } else {
            out.position_ids = torch::arange(L, torch::kInt64).view({1, 1, L}).expand({3, B, L}).contiguous();
            out.rope_deltas = torch::zeros({B, 1}, torch::kInt64);
        }
        return out;
    }
    auto grid = grid_in.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t n_images = grid.size(0);
    const int64_t merge = cfg.vision.spatial_merge_size;
    auto pos = torch::ones({3, B, L}, torch::kInt64);
    auto deltas = torch::zeros({B, 1}, torch::kInt64);
    auto ids_a = ids.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    auto grid_a = grid.accessor<int64_t, 2>();
    auto pos_a = pos.accessor<int64_t, 3>();
    int64_t image_index = 0;
    for (int64_t b = 0; b < B; ++b) {
        std::vector<int64_t> cols, toks;  // unpadded tokens and their columns
        for (int64_t l = 0; l < L; ++l)
            if (mask_a[b][l] == 1) {
                cols.push_back(l);
                toks.push_back(ids_a[b][l]);
            }
        const int64_t n = static_cast<int64_t>(toks.size());
        int64_t image_count = 0;
        for (int64_t i = 0; i + 1 < n; ++i)
            if (toks[i] == cfg.vision_start_token_id && toks[i + 1] == cfg.image_token_id) ++image_count;
        std::vector<std::array<int64_t, 3>> p;  // per unpadded token
        p.reserve(n);
        int64_t next = 0;  // max position so far + 1
        int64_t st = 0;
        auto push_text = [&](int64_t count) {
            for (int64_t i = 0; i < count; ++i) p.push_back({next + i, next + i, next + i});
            next += count;
        };
        for (int64_t k = 0; k < image_count; ++k) {
            int64_t ed = st;
            while (ed < n && toks[ed] != cfg.image_token_id) ++ed;
            if (ed >= n || image_index >= n_images)
                throw std::runtime_error("more image placeholders than image_grid_thw rows");
            const int64_t t = grid_a[image_index][0], h = grid_a[image_index][1] / merge, w = grid_a[image_index][2] / merge;
            ++image_index;
            push_text(ed - st);
            const int64_t base = next;
            int64_t mx = -1;
            for (int64_t ti = 0; ti < t; ++ti)
                for (int64_t hi = 0; hi < h; ++hi)
                    for (int64_t wi = 0; wi < w; ++wi) {
                        p.push_back({base + ti, base + hi, base + wi});
                        mx = std::max({mx, base + ti, base + hi, base + wi});
                    }
            next = mx + 1;
            st = ed + t * h * w;
        }
        if (st < n) push_text(n - st);
        if (static_cast<int64_t>(p.size()) != n)
            throw std::runtime_error("image placeholders do not match image_grid_thw (row " + std::to_string(b) + ")");
        for (int64_t i = 0; i < n; ++i)
            for (int a = 0; a < 3; ++a) pos_a[a][b][cols[i]] = p[i][a];
        deltas[b][0] = next - L;
    }
    if (image_index != n_images)
        throw std::runtime_error("image_grid_thw has " + std::to_string(n_images) + " rows but the prompt has " +
                                 std::to_string(image_index) + " images");
    out.position_ids = pos;
    out.rope_deltas = deltas;
    return out;
}

torch::Tensor decode_position_ids(const torch::Tensor& rope_deltas, int64_t batch, int64_t past_length, int64_t length) {
    // On rope_deltas' device (CPU when undefined): decoding on CUDA keeps its position ids there.
    auto iopt = torch::TensorOptions().dtype(torch::kInt64).device(rope_deltas.defined() ? rope_deltas.device() : torch::kCPU);
    auto base = torch::arange(past_length, past_length + length, iopt).view({1, length});
    auto d = rope_deltas.defined() ? rope_deltas.to(torch::kInt64).view({-1, 1}) : torch::zeros({batch, 1}, iopt);
    return (base + d).unsqueeze(0).expand({3, batch, length}).contiguous();
}

torch::Tensor vision_rotary_freqs(const VisionConfig& cfg, const torch::Tensor& grid_in) {
    auto grid = grid_in.to(torch::kCPU, torch::kInt64).contiguous();
    auto ga = grid.accessor<int64_t, 2>();
    const int64_t m = cfg.spatial_merge_size;
    std::vector<int64_t> hpos, wpos;
    int64_t max_hw = 0;
    for (int64_t i = 0; i < grid.size(0); ++i) {
        const int64_t t = ga[i][0], h = ga[i][1], w = ga[i][2];
        max_hw = std::max({max_hw, h, w});
        // Row/column of each patch, visited in merge-window order: (h/m, w/m, m, m).
        for (int64_t ti = 0; ti < t; ++ti)
            for (int64_t hb = 0; hb < h / m; ++hb)
                for (int64_t wb = 0; wb < w / m; ++wb)
                    for (int64_t hi = 0; hi < m; ++hi)
                        for (int64_t wi = 0; wi < m; ++wi) {
                            hpos.push_back(hb * m + hi);
                            wpos.push_back(wb * m + wi);
                        }
    }
    const int64_t dim = cfg.head_dim() / 2;  // VisionRotaryEmbedding(head_dim / 2)
    auto inv_freq = 1.0 / torch::pow(cfg.rope_theta, torch::arange(0, dim, 2, torch::kFloat32) / static_cast<double>(dim));
    inv_freq = inv_freq.to(torch::kFloat32);
    auto seq = torch::arange(max_hw, torch::kFloat32);
    auto table = torch::outer(seq, inv_freq);  // [max_hw, dim/2]
    auto hp = torch::tensor(hpos, torch::kInt64), wp = torch::tensor(wpos, torch::kInt64);
    return torch::cat({table.index_select(0, hp), table.index_select(0, wp)}, -1);  // [N, dim]
}

std::pair<torch::Tensor, torch::Tensor> mrope_cos_sin(const TextConfig& cfg, const torch::Tensor& position_ids,
                                                      torch::ScalarType dtype) {
    const int64_t hd = cfg.attn_head_dim();
    auto dev = position_ids.device();
    auto fopt = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
    auto inv_freq = (1.0 / torch::pow(cfg.rope_theta, torch::arange(0, hd, 2, fopt.dtype(torch::kInt64)).to(torch::kFloat32) /
                                                          static_cast<double>(hd)))
                        .to(torch::kFloat32);
    auto freqs = position_ids.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [3, B, L, hd/2]
    auto emb = torch::cat({freqs, freqs}, -1);                                // [3, B, L, hd]
    auto cos = emb.cos().to(dtype), sin = emb.sin().to(dtype);
    std::vector<int64_t> sections;
    for (int rep = 0; rep < 2; ++rep)
        for (auto s : cfg.mrope_section) sections.push_back(s);
    auto pick = [&](const torch::Tensor& x) {
        auto parts = x.split_with_sizes(sections, -1);
        std::vector<torch::Tensor> chosen;
        for (size_t i = 0; i < parts.size(); ++i) chosen.push_back(parts[i][static_cast<int64_t>(i % 3)]);
        return torch::cat(chosen, -1).unsqueeze(1);  // [B, 1, L, hd]
    };
    return {pick(cos), pick(sin)};
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
    const int64_t half = x.size(-1) / 2;
    auto x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
    auto rotated = torch::cat({-x2, x1}, -1);
    return x * cos + rotated * sin;
}

}  // namespace matrix::model
