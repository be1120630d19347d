// LoRA adapters on disk in PEFT's format, so PEFT, vLLM and LLaMA-Factory load what the workbench trains:
// `adapter_config.json` + `adapter_model.safetensors` with keys
// `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` (published Qwen2-VL module paths, as in
// the fixture's peft-adapter/), reading them back, attaching them to a model's linears (model/lora.h), and
// merging an adapter into the base weights to write a merged checkpoint directory (same tensor names, shards and
// dtype as the base, plus its config and tokenizer files). The one place that knows PEFT's file format.
// Stateless functions; safe to call from any thread.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace matrix::train {

// One LoRA-adapted linear: W x + (alpha / r) * B A x.
struct LoraPair {
    std::string module;  // published path, e.g. "model.layers.0.self_attn.q_proj"
    torch::Tensor a;     // [r, in]
    torch::Tensor b;     // [out, r]
};

struct LoraSpec {
    int r = 0;
    double alpha = 0;
    double dropout = 0;
    bool use_rslora = false;           // scaling alpha / sqrt(r) instead of alpha / r
    std::vector<std::string> targets;  // module name suffixes ("q_proj", ...)
    std::string base_model;            // recorded as base_model_name_or_path
};

// Maps any of the names a LoRA parameter may carry (torch module names, PEFT in-memory keys with `.default.`,
// transformers-5 paths `model.language_model.` / `model.visual.`, PEFT file keys) to the published module path:
// "base_model.model.model.language_model.layers.0.mlp.up_proj.lora_B.default.weight" -> "model.layers.0.mlp.up_proj".
std::string lora_module_path(const std::string& name);
// Which matrix a name refers to: 'A', 'B' or 0 when it is not a LoRA parameter.
char lora_matrix_kind(const std::string& name);

// PEFT file key for a module's A or B matrix.
std::string peft_key(const std::string& module, char which);

// Writes dir/adapter_config.json and dir/adapter_model.safetensors (float32, or bf16 when `bf16`) atomically.
Status save_peft_adapter(const std::string& dir, const std::vector<LoraPair>& lora, const LoraSpec& spec,
                         bool bf16 = false);
// Reads a PEFT adapter (any of the key spellings above) into float32 CPU tensors. `path`: an adapter directory,
// or a bare .safetensors file (e.g. PEFT's in-memory state dict with ".default." keys) whose config is a sibling
// adapter_config.json or <stem>.json, else `fallback`. Non-LoRA tensors, a module with only one of A/B and rank
// mismatches are errors naming the key.
Result<std::vector<LoraPair>> read_peft_adapter(const std::string& path, LoraSpec* spec = nullptr,
                                                const LoraSpec* fallback = nullptr);

// The LoRA matrices of a model's wrapped linears (model/lora.h), by published module path, for saving.
std::vector<LoraPair> lora_pairs(torch::nn::Module& model);

// Reads an adapter (as read_peft_adapter) and attaches it to the model's linears (LinearImpl::add_lora + copy).
// A module that is not a linear of the model or a shape mismatch is an error naming it. Returns the spec.
Result<LoraSpec> load_peft_adapter(torch::nn::Module& model, const std::string& path,
                                   const LoraSpec* fallback = nullptr);

// W' = W + (alpha / r) * B A for every adapted module, computed in float32 and stored in W's dtype.
// base_dir: a checkpoint directory (model.safetensors or sharded with model.safetensors.index.json; published or
// transformers-5 key names). out_dir gets the merged shards, the index (if any) and every other file of base_dir.
Status merge_adapter_into_checkpoint(const std::string& base_dir, const std::string& adapter_dir,
                                     const std::string& out_dir, const Progress& progress = {});

}  // namespace matrix::train
