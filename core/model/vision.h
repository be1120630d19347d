// The Qwen2-VL vision tower (a ViT over 14x14x2 patches): patch embedding (Conv3d as one matmul), blocks of
// LayerNorm -> attention with 2D rotary restricted to each image -> LayerNorm -> quick-GELU MLP, and the patch
// merger that folds each 2x2 window into one LM-width token. Registered names equal the checkpoint's
// (visual.patch_embed.proj.weight, visual.blocks.N.attn.qkv, visual.merger.mlp.0 ...).
#pragma once

#include <torch/torch.h>

#include "core/model/config.h"
#include "core/model/lora.h"
#include "core/model/tap.h"

namespace matrix::model {

class LayerNormImpl : public torch::nn::Module {
public:
    LayerNormImpl(int64_t dim, double eps, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor weight, bias;
    double eps;
};
TORCH_MODULE(LayerNorm);

class PatchEmbedImpl : public torch::nn::Module {
public:
    PatchEmbedImpl(const VisionConfig& cfg, const torch::TensorOptions& options);
    // pixel_values [N, C*T*P*P] -> [N, embed_dim]
    torch::Tensor forward(const torch::Tensor& pixel_values);
    Weight proj{nullptr};  // proj.weight [embed, C, T, P, P] (Conv3d without bias, stride = kernel)
    int64_t embed_dim;
};
TORCH_MODULE(PatchEmbed);

class VisionAttentionImpl : public torch::nn::Module {
public:
    VisionAttentionImpl(const VisionConfig& cfg, const torch::TensorOptions& options);
    // x [N, D]; cos/sin [N, head_dim] float32; seqlens: patches per image frame (attention stays inside each)
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                          const std::vector<int64_t>& seqlens);
    Linear qkv{nullptr}, proj{nullptr};
    int64_t num_heads, head_dim;
};
TORCH_MODULE(VisionAttention);

class VisionMlpImpl : public torch::nn::Module {
public:
    VisionMlpImpl(const VisionConfig& cfg, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);
    Linear fc1{nullptr}, fc2{nullptr};
    std::string act;
};
TORCH_MODULE(VisionMlp);

class VisionBlockImpl : public torch::nn::Module {
public:
    VisionBlockImpl(const VisionConfig& cfg, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                          const std::vector<int64_t>& seqlens);
    LayerNorm norm1{nullptr}, norm2{nullptr};
    VisionAttention attn{nullptr};
    VisionMlp mlp{nullptr};
};
TORCH_MODULE(VisionBlock);

// merger.mlp is nn.Sequential(Linear, GELU, Linear) in the reference: children named "0" and "2".
class MergerMlpImpl : public torch::nn::Module {
public:
    MergerMlpImpl(int64_t in, int64_t out, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);
    Linear fc0{nullptr}, fc2{nullptr};
};
TORCH_MODULE(MergerMlp);

class PatchMergerImpl : public torch::nn::Module {
public:
    PatchMergerImpl(const VisionConfig& cfg, int64_t out_dim, const torch::TensorOptions& options);
    // [N, embed_dim] (merge windows contiguous) -> [N / merge^2, out_dim]
    torch::Tensor forward(const torch::Tensor& x);
    LayerNorm ln_q{nullptr};
    MergerMlp mlp{nullptr};
    int64_t hidden;
};
TORCH_MODULE(PatchMerger);

class VisionTowerImpl : public torch::nn::Module {
public:
    VisionTowerImpl(const VisionConfig& cfg, int64_t out_dim, const torch::TensorOptions& options);
    // pixel_values [N, patch_dim], grid_thw [n_images, 3] -> image embeddings [N / merge^2, out_dim]
    torch::Tensor forward(const torch::Tensor& pixel_values, const torch::Tensor& grid_thw, const Tap* tap = nullptr);
    VisionConfig cfg;
    PatchEmbed patch_embed{nullptr};
    torch::nn::ModuleList blocks{nullptr};
    PatchMerger merger{nullptr};
};
TORCH_MODULE(VisionTower);

}  // namespace matrix::model
