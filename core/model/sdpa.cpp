// Attention kernel selection (see sdpa.h). The version test is at compile time so a LibTorch 2.x + CUDA build
// gets the fused kernels (flash / memory-efficient) and Debian's 1.13 gets the private op that exists there.
#include "core/model/sdpa.h"

#include <cmath>

namespace matrix::model {

torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n_rep) {
    if (n_rep == 1) return x;
    const auto b = x.size(0), h = x.size(1), l = x.size(2), d = x.size(3);
    return x.unsqueeze(2).expand({b, h, n_rep, l, d}).reshape({b, h * n_rep, l, d});
}

torch::Tensor attention_math(torch::Tensor q, torch::Tensor k, torch::Tensor v, const torch::Tensor& mask, bool causal) {
    const int64_t n_rep = q.size(1) / k.size(1);
    k = repeat_kv(k, n_rep);
    v = repeat_kv(v, n_rep);
    auto scores = torch::matmul(q, k.transpose(2, 3)) * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
    if (mask.defined()) {
        scores = scores + mask;
    } else if (causal) {
        auto allowed = torch::ones({q.size(2), k.size(2)}, q.options().dtype(torch::kBool)).tril(k.size(2) - q.size(2));
        scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
    }
    auto probs = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
    return torch::matmul(probs, v);
}

torch::Tensor attention(torch::Tensor q, torch::Tensor k, torch::Tensor v, const torch::Tensor& mask, bool causal) {
    const int64_t n_rep = q.size(1) / k.size(1);
    c10::optional<torch::Tensor> m;
    if (mask.defined()) m = mask.to(q.scalar_type());
    const bool is_causal = causal && !mask.defined();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
    // enable_gqa: the kernel reads each kv head for its query group, no repeated copy of the cache per step.
    return at::scaled_dot_product_attention(q, k, v, m, 0.0, is_causal, c10::nullopt, n_rep > 1);
#elif TORCH_VERSION_MAJOR >= 2
    k = repeat_kv(k, n_rep);
    v = repeat_kv(v, n_rep);
    return at::scaled_dot_product_attention(q, k, v, m, 0.0, is_causal);
#else
    k = repeat_kv(k, n_rep);
    v = repeat_kv(v, n_rep);
    // LibTorch 1.13: (output, attention weights); weights are not computed with need_attn_weights=false.
    return std::get<0>(at::_scaled_dot_product_attention(q, k, v, m, 0.0, false, is_causal));
#endif
}

const char* attention_backend() {
#if TORCH_VERSION_MAJOR >= 2
    return "at::scaled_dot_product_attention";
#else
    return "at::_scaled_dot_product_attention (LibTorch 1.13 private op)";
#endif
}

}  // namespace matrix::model
