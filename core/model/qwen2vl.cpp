// Qwen2-VL forward (see qwen2vl.h): image features scattered into the token embeddings at image-pad positions,
// M-RoPE positions from get_rope_index (prefill) or from the cache and rope_deltas (decode), the decoder, the head.
// Matches transformers' Qwen2VLModel.forward / Qwen2VLForConditionalGeneration.forward.
#include "core/model/qwen2vl.h"

#include "core/model/rotary.h"
#include "core/model/weights.h"
#include "core/util/error_text.h"

namespace matrix::model {

Qwen2VLImpl::Qwen2VLImpl(const Qwen2VLConfig& c, const torch::TensorOptions& options) : cfg(c) {
    model = register_module("model", TextModel(cfg.text, options));
    visual = register_module("visual", VisionTower(cfg.vision, cfg.text.hidden_size, options));
    if (!cfg.tie_word_embeddings)
        lm_head = register_module("lm_head", Linear(cfg.text.hidden_size, cfg.text.vocab_size, false, options));
}

torch::Tensor Qwen2VLImpl::image_features(const torch::Tensor& pixel_values, const torch::Tensor& grid_thw, const Tap* tap) {
    return visual->forward(pixel_values.to(device()), grid_thw, tap);
}

torch::Tensor Qwen2VLImpl::lm_head_forward(const torch::Tensor& hidden) {
    if (!lm_head.is_empty()) return lm_head(hidden);
    return torch::nn::functional::linear(hidden, model->embed_tokens->weight);
}

torch::Tensor build_attention_mask(const torch::Tensor& key_mask, int64_t batch, int64_t past, int64_t length,
                                   torch::ScalarType dtype, torch::Device device) {
    const int64_t total = past + length;
    auto iopt = torch::TensorOptions().dtype(torch::kInt64).device(device);
    auto q_pos = torch::arange(past, total, iopt).view({length, 1});
    auto k_pos = torch::arange(0, total, iopt).view({1, total});
    auto allowed = (k_pos <= q_pos).view({1, 1, length, total});  // causal
    if (key_mask.defined()) allowed = allowed & (key_mask.to(device).view({batch, 1, 1, total}) != 0);
    else allowed = allowed.expand({batch, 1, length, total});
    // The dtype's lowest finite value, as transformers uses torch.finfo(dtype).min (no NaN for fully padded rows).
    double lowest = std::numeric_limits<float>::lowest();
    if (dtype == torch::kBFloat16) lowest = static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    else if (dtype == torch::kFloat16) lowest = -65504.0;
    else if (dtype == torch::kFloat64) lowest = std::numeric_limits<double>::lowest();
    auto opts = torch::TensorOptions().dtype(dtype).device(device);
    auto zero = torch::zeros({}, opts);
    auto blocked = torch::full({}, lowest, opts);
    return torch::where(allowed, zero, blocked);
}

// Positions of a packed row: get_rope_index of each segment on its own (with the image grids its image tokens
// use, taken in order), laid end to end: [3, 1, L].
torch::Tensor Qwen2VLImpl::packed_position_ids(const torch::Tensor& ids, const torch::Tensor& grid_thw,
                                               const std::vector<int64_t>& segments) const {
    const int64_t merge = cfg.vision.spatial_merge_size * cfg.vision.spatial_merge_size;
    auto grids = grid_thw.defined() ? grid_thw.to(torch::kCPU, torch::kInt64) : torch::Tensor();
    std::vector<torch::Tensor> parts;
    int64_t at = 0, grid_row = 0;
    for (int64_t n : segments) {
        auto seg = ids.narrow(1, at, n);
        const int64_t image_tokens = (seg == cfg.image_token_id).sum().item<int64_t>();
        int64_t rows = 0, tokens = 0;
        while (tokens < image_tokens) {
            if (!grids.defined() || grid_row + rows >= grids.size(0))
                throw std::runtime_error("packed segments hold more image tokens than image_grid_thw describes");
            tokens += grids[grid_row + rows].prod().item<int64_t>() / merge;
            ++rows;
        }
        if (tokens != image_tokens)
            throw std::runtime_error("a packed segment's image tokens do not match its images' grids");
        auto seg_grids = rows > 0 ? grids.narrow(0, grid_row, rows) : torch::Tensor();
        parts.push_back(get_rope_index(cfg, seg, seg_grids, torch::Tensor()).position_ids);
        grid_row += rows;
        at += n;
    }
    return torch::cat(parts, 2);
}

ForwardOutput Qwen2VLImpl::forward(const ForwardInput& in) {
    if (!in.input_ids.defined() || in.input_ids.dim() != 2) throw std::runtime_error("input_ids must be [B, L]");
    const auto dev = device();
    auto ids = in.input_ids.to(dev, torch::kInt64);
    const int64_t B = ids.size(0), L = ids.size(1);
    KVCache* cache = in.cache;
    if (cache && (in.prefix || in.record)) throw std::runtime_error("a shared prefix and a KV cache do not combine");
    if (in.prefix && !in.position_ids.defined())
        throw std::runtime_error("a forward after a shared prefix needs explicit position_ids");
    const int64_t past = cache ? cache->length : in.prefix ? in.prefix->length() : 0;
    if (!in.segments.empty()) {
        if (B != 1 || cache || in.prefix || in.record || in.attention_mask.defined())
            throw std::runtime_error("packed segments need one row, no cache, no prefix and no attention_mask");
        int64_t total = 0;
        for (int64_t n : in.segments) {
            if (n < 1) throw std::runtime_error("packed segments must not be empty");
            total += n;
        }
        if (total != L) throw std::runtime_error("packed segments cover " + std::to_string(total) + " of " + std::to_string(L) + " tokens");
    }

    auto embeds = model->embed(ids);  // [B, L, H]
    if (in.pixel_values.defined() && in.pixel_values.numel() > 0) {
        if (!in.image_grid_thw.defined()) throw std::runtime_error("pixel_values given without image_grid_thw");
        auto feats = image_features(in.pixel_values, in.image_grid_thw, in.tap).to(embeds.scalar_type());
        auto is_image = ids == cfg.image_token_id;  // [B, L]
        const int64_t n_tokens = is_image.sum().item<int64_t>();
        if (n_tokens != feats.size(0))
            throw std::runtime_error("image features and image tokens do not match: tokens: " + std::to_string(n_tokens) +
                                     ", features: " + std::to_string(feats.size(0)));
        embeds = embeds.masked_scatter(is_image.unsqueeze(-1).expand_as(embeds), feats);
    }

    ForwardOutput out;
    torch::Tensor key_mask;  // [B, past + L] or undefined
    if (cache) {
        auto new_mask = in.attention_mask.defined() ? in.attention_mask.to(dev, torch::kInt64)
                                                    : torch::ones({B, L}, torch::TensorOptions().dtype(torch::kInt64).device(dev));
        cache->attention_mask.narrow(1, past, L).copy_(new_mask);
        key_mask = cache->attention_mask.narrow(1, 0, past + L);
    } else if (in.prefix && (in.attention_mask.defined() || in.prefix_mask.defined())) {
        auto iopt = torch::TensorOptions().dtype(torch::kInt64).device(dev);
        auto pm = in.prefix_mask.defined() ? in.prefix_mask.to(dev, torch::kInt64) : torch::ones({B, past}, iopt);
        auto am = in.attention_mask.defined() ? in.attention_mask.to(dev, torch::kInt64) : torch::ones({B, L}, iopt);
        key_mask = torch::cat({pm, am}, 1);  // [B, past + L]
    } else if (in.attention_mask.defined()) {
        key_mask = in.attention_mask.to(dev, torch::kInt64);
    }

    if (in.position_ids.defined()) {
        out.position_ids = in.position_ids.to(torch::kCPU, torch::kInt64);
        out.rope_deltas = cache && cache->rope_deltas.defined() ? cache->rope_deltas : torch::zeros({B, 1}, torch::kInt64);
    } else if (!in.segments.empty()) {
        out.position_ids = packed_position_ids(ids, in.image_grid_thw, in.segments);
        out.rope_deltas = torch::zeros({B, 1}, torch::kInt64);
    } else if (past == 0) {
        auto ri = get_rope_index(cfg, ids, in.image_grid_thw, key_mask);
        out.position_ids = ri.position_ids;
        out.rope_deltas = ri.rope_deltas;
        if (cache) {
            cache->rope_deltas = ri.rope_deltas;
            cache->rope_deltas_device = torch::Tensor();
        }
    } else {
        // Decode step: position ids made on the device from a device copy of rope_deltas (no host round trip).
        out.rope_deltas = cache->rope_deltas;
        if (!cache->rope_deltas_device.defined() && cache->rope_deltas.defined())
            cache->rope_deltas_device = cache->rope_deltas.to(dev, torch::kInt64);
        out.position_ids = decode_position_ids(cache->rope_deltas_device, B, past, L);
    }

    AttentionInputs ai;
    ai.cache = cache;
    ai.prefix = in.prefix;
    ai.record = in.record;
    ai.segments = in.segments;
    auto cs = mrope_cos_sin(cfg.text, out.position_ids.to(dev), dtype());
    ai.cos = cs.first;
    ai.sin = cs.second;
    // Whether a mask is needed; with a cache decided once at the prefill so decoding does not sync per token.
    bool padded;
    if (cache && past > 0) {
        padded = cache->padded || in.attention_mask.defined();
    } else {
        padded = key_mask.defined() && (key_mask == 0).any().item<bool>();
        if (cache) cache->padded = padded;
    }
    if (padded) {
        ai.mask = build_attention_mask(key_mask, B, past, L, dtype(), dev);
    } else if (L > 1 && in.segments.empty()) {
        if (past == 0) ai.causal = true;
        else ai.mask = build_attention_mask(torch::Tensor(), B, past, L, dtype(), dev);
    }
    auto hidden = model->forward(embeds, ai, in.tap);
    if (in.skip_logits) return out;
    if (in.logit_rows.defined()) {
        if (in.logits_to_keep > 0) throw std::runtime_error("logit_rows and logits_to_keep do not combine");
        hidden = hidden.reshape({-1, hidden.size(-1)}).index_select(0, in.logit_rows);
    } else if (in.logits_to_keep > 0 && in.logits_to_keep < L) {
        hidden = hidden.narrow(1, L - in.logits_to_keep, in.logits_to_keep);
    }
    out.logits = lm_head_forward(hidden);
    return out;
}

Result<Qwen2VL> load_qwen2vl(const std::string& model_dir, const LoadOptions& options) {
    MATRIX_TRY(Qwen2VLConfig cfg, load_config(model_dir));
    auto ck = Checkpoint::open(model_dir);
    if (!ck.ok()) return ck.error().within("opening weights");
    MATRIX_CHECK(reconcile_with_weights(cfg, ck->shapes()));
    try {
        Qwen2VL m(cfg, torch::TensorOptions().dtype(options.dtype).device(options.device));
        std::set<std::string> ignored;
        if (cfg.tie_word_embeddings) ignored.insert("lm_head.weight");
        auto st = load_parameters(*m, *ck, {}, ignored);
        if (!st.ok()) return st.error().within(model_dir);
        m->eval();
        return m;
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "building the model from " + model_dir);
    }
}

Result<Qwen2VL> random_qwen2vl(const Qwen2VLConfig& cfg, const LoadOptions& options, uint64_t seed) {
    try {
        torch::manual_seed(seed);
        Qwen2VL m(cfg, torch::TensorOptions().dtype(options.dtype).device(options.device));
        torch::NoGradGuard ng;
        for (auto& item : m->named_parameters(true)) {
            auto& p = item.value();
            const auto& n = item.key();
            if (n.find("norm") != std::string::npos || n.find("ln_q") != std::string::npos) {
                if (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0) p.zero_();
                else p.fill_(1.0);
            } else {
                p.normal_(0.0, 0.02);
            }
        }
        m->eval();
        return m;
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "building a random model");
    }
}

Result<ForwardOutput> run_forward(Qwen2VL& model, const ForwardInput& in) {
    try {
        return model->forward(in);
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "forward");
    }
}

namespace {
// Shifted (logits[:, :-1], labels[:, 1:]) token log-probs and the mask of labelled positions.
std::pair<torch::Tensor, torch::Tensor> shifted_token_logps(const torch::Tensor& logits, const torch::Tensor& labels) {
    const int64_t L = logits.size(1);
    auto lg = logits.narrow(1, 0, L - 1).to(torch::kFloat32);
    auto lb = labels.to(logits.device(), torch::kInt64).narrow(1, 1, L - 1);
    auto valid = lb != -100;
    auto safe = lb.masked_fill(valid.logical_not(), 0);
    auto logp = torch::log_softmax(lg, -1).gather(-1, safe.unsqueeze(-1)).squeeze(-1);  // [B, L-1]
    return {logp * valid.to(torch::kFloat32), valid};
}
}  // namespace

torch::Tensor sequence_logps(const torch::Tensor& logits, const torch::Tensor& labels) {
    return shifted_token_logps(logits, labels).first.sum(-1);
}

torch::Tensor lm_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
    auto r = shifted_token_logps(logits, labels);
    return -r.first.sum() / r.second.sum().clamp_min(1).to(torch::kFloat32);
}

}  // namespace matrix::model
