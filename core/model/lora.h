// LoRA (Hu et al. 2021) as PEFT implements it: y = W x + b + (alpha / r) * B(A(dropout(x))).
// Every projection of the model is a matrix::model::Linear, so LoRA can be attached to any of them by name;
// lora_A / lora_B are child modules holding `weight` so that parameter names equal PEFT's on-disk names minus
// the "base_model.model." prefix (model.layers.0.self_attn.q_proj.lora_A.weight). Base weights stay as they are;
// freeze_base_weights() turns their gradients off so only A and B train. set_lora_enabled(false) gives the
// reference model (the base) from the same module tree, as DPO needs.
// Thread safety: modules are not thread-safe; one forward at a time per model.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::model {

class Qwen2VLImpl;

// A module holding only `weight`, so that lora_A / lora_B appear as "<path>.lora_A.weight" (and the Conv3d of the
// patch embedding as "proj.weight").
class WeightImpl : public torch::nn::Module {
public:
    explicit WeightImpl(torch::Tensor w) { weight = register_parameter("weight", std::move(w)); }
    torch::Tensor weight;
};
TORCH_MODULE(Weight);

// nn.Linear with an optional LoRA branch. Parameters are created uninitialised (loading fills them).
class LinearImpl : public torch::nn::Module {
public:
    LinearImpl(int64_t in_features, int64_t out_features, bool with_bias, const torch::TensorOptions& options);
    torch::Tensor forward(const torch::Tensor& x);

    // Adds (or replaces) the LoRA branch: A [r, in] (PEFT's kaiming-uniform init), B [out, r] zeros.
    void add_lora(int64_t r, double alpha, double dropout, bool use_rslora = false);
    void remove_lora();
    bool has_lora() const { return !lora_A.is_empty(); }
    void set_lora_enabled(bool on) { m_lora_enabled = on; }
    bool lora_enabled() const { return m_lora_enabled; }
    double lora_scaling() const { return m_scaling; }
    // W += scaling * B A (for saving a merged checkpoint); removes the branch.
    void merge_lora();

    int64_t in_features, out_features;
    torch::Tensor weight, bias;  // [out, in], [out] or undefined
    Weight lora_A{nullptr}, lora_B{nullptr};

private:
    double m_scaling = 0.0;
    double m_dropout = 0.0;
    bool m_lora_enabled = true;
};
TORCH_MODULE(Linear);

struct LoraConfig {
    int64_t r = 16;
    double alpha = 32.0;
    double dropout = 0.0;
    bool use_rslora = false;
    // Module names matched against the last path component (PEFT's list form), e.g. q_proj, k_proj, ...
    std::vector<std::string> target_modules{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    bool include_vision = false;  // also wrap matching modules under visual.*
};

// Adds fresh LoRA branches to every target Linear; returns the module paths wrapped (error if none matched).
Result<std::vector<std::string>> attach_lora(torch::nn::Module& model, const LoraConfig& cfg);

// The trainable LoRA parameters with PEFT's on-disk names ("base_model.model.<path>.lora_A.weight").
// Adapter files (PEFT's directory format: save, read, load onto a model, merge into a checkpoint) are
// core/training/adapter_io.h.
std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(torch::nn::Module& model);

// The merged update scaling * B A in float32 [out, in]: what merging adds to W (one formula for
// LinearImpl::merge_lora and the on-disk merge of adapter_io).
torch::Tensor lora_delta(const torch::Tensor& a, const torch::Tensor& b, double scaling);

void set_lora_enabled(torch::nn::Module& model, bool on);
// requires_grad(false) on everything that is not a LoRA matrix.
void freeze_base_weights(torch::nn::Module& model);

// Maps a checkpoint / PEFT key to the module tree's name: strips "base_model.model.", ".default",
// and maps transformers-5 paths (model.language_model.X -> model.X, model.visual.X -> visual.X).
std::string canonical_param_name(const std::string& key);

}  // namespace matrix::model
