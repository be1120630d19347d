// Scaled dot-product attention for the vision and text towers, one entry point for every LibTorch version:
// the public torch::scaled_dot_product_attention on LibTorch >= 2.0, the private at::_scaled_dot_product_attention
// on Debian's 1.13 (verified here to match the matmul-softmax path for additive float masks, causal masking and
// gradients), and a plain matmul-softmax path used as a reference in tests. Chosen at compile time.
#pragma once

#include <torch/torch.h>

namespace matrix::model {

// q [B, H, Lq, D]; k, v [B, Hkv, Lk, D] with H a multiple of Hkv (GQA: kv heads are repeated).
// mask: additive float mask broadcastable to [B, H, Lq, Lk] (0 = attend, lowest() = blocked), or undefined.
// causal: only when mask is undefined; query i attends keys j <= i (Lq == Lk). Scale is 1/sqrt(D).
// Returns [B, H, Lq, D].
torch::Tensor attention(torch::Tensor q, torch::Tensor k, torch::Tensor v, const torch::Tensor& mask, bool causal);

// The eager path of transformers (softmax in float32), for tests and debugging.
torch::Tensor attention_math(torch::Tensor q, torch::Tensor k, torch::Tensor v, const torch::Tensor& mask, bool causal);

// [B, Hkv, L, D] -> [B, Hkv*n_rep, L, D], each kv head repeated n_rep times (transformers' repeat_kv).
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n_rep);

// Human-readable name of the compiled-in path ("torch::scaled_dot_product_attention", ...).
const char* attention_backend();

}  // namespace matrix::model
