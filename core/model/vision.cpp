// Vision tower of Qwen2-VL (see vision.h). Follows transformers' PatchEmbed, VisionAttention (cu_seqlens: one
// attention per image frame), VisionMlp, Qwen2VLVisionBlock, PatchMerger and
// Qwen2VisionTransformerPretrainedModel.forward.
#include "core/model/vision.h"

#include "core/model/rotary.h"
#include "core/model/sdpa.h"

namespace matrix::model {

namespace {
torch::Tensor activation(const std::string& act, const torch::Tensor& x) {
    if (act == "quick_gelu") return x * torch::sigmoid(1.702 * x);
    if (act == "gelu") return torch::gelu(x);
    if (act == "gelu_pytorch_tanh" || act == "gelu_new") return torch::gelu(x, "tanh");
    if (act == "silu") return torch::silu(x);
    throw std::runtime_error("unsupported vision activation " + act);
}
}  // namespace

LayerNormImpl::LayerNormImpl(int64_t dim, double eps_, const torch::TensorOptions& options) : eps(eps_) {
    weight = register_parameter("weight", torch::empty({dim}, options));
    bias = register_parameter("bias", torch::empty({dim}, options));
}

torch::Tensor LayerNormImpl::forward(const torch::Tensor& x) {
    return torch::layer_norm(x, {weight.size(0)}, weight, bias, eps);
}

PatchEmbedImpl::PatchEmbedImpl(const VisionConfig& cfg, const torch::TensorOptions& options) : embed_dim(cfg.embed_dim) {
    proj = register_module(
        "proj", Weight(torch::empty({cfg.embed_dim, cfg.in_channels, cfg.temporal_patch_size, cfg.patch_size, cfg.patch_size},
                                    options)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& pixel_values) {
    // A Conv3d whose stride equals its kernel over one patch each is a matmul with the flattened kernel;
    // pixel_values rows are already flattened in (C, T, P, P) order.
    auto w = proj->weight.reshape({embed_dim, -1});
    return torch::matmul(pixel_values.to(w.scalar_type()), w.t());
}

VisionAttentionImpl::VisionAttentionImpl(const VisionConfig& cfg, const torch::TensorOptions& options)
    : num_heads(cfg.num_heads), head_dim(cfg.head_dim()) {
    qkv = register_module("qkv", Linear(cfg.embed_dim, 3 * cfg.embed_dim, true, options));
    proj = register_module("proj", Linear(cfg.embed_dim, cfg.embed_dim, true, options));
}

torch::Tensor VisionAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                           const std::vector<int64_t>& seqlens) {
    const int64_t n = x.size(0);
    auto qkv_out = qkv(x).reshape({n, 3, num_heads, head_dim}).permute({1, 0, 2, 3});  // [3, N, H, hd]
    auto q = qkv_out[0], k = qkv_out[1], v = qkv_out[2];
    // apply_rotary_pos_emb_vision: in float32, back to the input dtype.
    auto c = cos.unsqueeze(-2), s = sin.unsqueeze(-2);
    q = apply_rotary(q.to(torch::kFloat32), c, s).to(x.scalar_type());
    k = apply_rotary(k.to(torch::kFloat32), c, s).to(x.scalar_type());
    q = q.transpose(0, 1).unsqueeze(0);  // [1, H, N, hd]
    k = k.transpose(0, 1).unsqueeze(0);
    v = v.transpose(0, 1).unsqueeze(0);
    torch::Tensor out;
    if (seqlens.size() <= 1) {
        out = attention(q, k, v, torch::Tensor(), false);
    } else {
        std::vector<torch::Tensor> parts;
        int64_t start = 0;
        for (int64_t len : seqlens) {
            parts.push_back(attention(q.narrow(2, start, len), k.narrow(2, start, len), v.narrow(2, start, len),
                                      torch::Tensor(), false));
            start += len;
        }
        out = torch::cat(parts, 2);
    }
    out = out.squeeze(0).transpose(0, 1).reshape({n, -1});  // [N, D]
    return proj(out);
}

VisionMlpImpl::VisionMlpImpl(const VisionConfig& cfg, const torch::TensorOptions& options) : act(cfg.hidden_act) {
    fc1 = register_module("fc1", Linear(cfg.embed_dim, cfg.mlp_hidden(), true, options));
    fc2 = register_module("fc2", Linear(cfg.mlp_hidden(), cfg.embed_dim, true, options));
}

torch::Tensor VisionMlpImpl::forward(const torch::Tensor& x) { return fc2(activation(act, fc1(x))); }

VisionBlockImpl::VisionBlockImpl(const VisionConfig& cfg, const torch::TensorOptions& options) {
    norm1 = register_module("norm1", LayerNorm(cfg.embed_dim, 1e-6, options));
    norm2 = register_module("norm2", LayerNorm(cfg.embed_dim, 1e-6, options));
    attn = register_module("attn", VisionAttention(cfg, options));
    mlp = register_module("mlp", VisionMlp(cfg, options));
}

torch::Tensor VisionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                       const std::vector<int64_t>& seqlens) {
    auto h = x + attn(norm1(x), cos, sin, seqlens);
    return h + mlp(norm2(h));
}

MergerMlpImpl::MergerMlpImpl(int64_t in, int64_t out, const torch::TensorOptions& options) {
    fc0 = register_module("0", Linear(in, in, true, options));
    fc2 = register_module("2", Linear(in, out, true, options));
}

torch::Tensor MergerMlpImpl::forward(const torch::Tensor& x) { return fc2(torch::gelu(fc0(x))); }

PatchMergerImpl::PatchMergerImpl(const VisionConfig& cfg, int64_t out_dim, const torch::TensorOptions& options)
    : hidden(cfg.embed_dim * cfg.spatial_merge_size * cfg.spatial_merge_size) {
    ln_q = register_module("ln_q", LayerNorm(cfg.embed_dim, 1e-6, options));
    mlp = register_module("mlp", MergerMlp(hidden, out_dim, options));
}

torch::Tensor PatchMergerImpl::forward(const torch::Tensor& x) { return mlp(ln_q(x).reshape({-1, hidden})); }

VisionTowerImpl::VisionTowerImpl(const VisionConfig& c, int64_t out_dim, const torch::TensorOptions& options) : cfg(c) {
    patch_embed = register_module("patch_embed", PatchEmbed(cfg, options));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < cfg.depth; ++i) blocks->push_back(VisionBlock(cfg, options));
    merger = register_module("merger", PatchMerger(cfg, out_dim, options));
}

torch::Tensor VisionTowerImpl::forward(const torch::Tensor& pixel_values, const torch::Tensor& grid_thw, const Tap* tap) {
    auto grid = grid_thw.to(torch::kCPU, torch::kInt64).contiguous();
    auto ga = grid.accessor<int64_t, 2>();
    std::vector<int64_t> seqlens;  // cu_seqlens as lengths: each temporal frame of each image is its own sequence
    int64_t total = 0;
    for (int64_t i = 0; i < grid.size(0); ++i)
        for (int64_t t = 0; t < ga[i][0]; ++t) {
            seqlens.push_back(ga[i][1] * ga[i][2]);
            total += ga[i][1] * ga[i][2];
        }
    if (total != pixel_values.size(0))
        throw std::runtime_error("pixel_values has " + std::to_string(pixel_values.size(0)) +
                                 " patches but image_grid_thw describes " + std::to_string(total));
    auto h = patch_embed(pixel_values);
    tap_call(tap, "vision.patch_embed", -1, h);
    auto freqs = vision_rotary_freqs(cfg, grid).to(h.device());
    auto emb = torch::cat({freqs, freqs}, -1);  // [N, head_dim] float32
    auto cos = emb.cos(), sin = emb.sin();
    for (size_t i = 0; i < blocks->size(); ++i) {
        h = blocks->at<VisionBlockImpl>(i).forward(h, cos, sin, seqlens);
        tap_call(tap, "vision.block", static_cast<int>(i), h);
    }
    auto out = merger(h);
    tap_call(tap, "vision.merger", -1, out);
    return out;
}

}  // namespace matrix::model
