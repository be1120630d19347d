// PEFT's adapter_config.json as read from a user's adapter folder: the LoRA fields the engine uses, validated
// (a rank of 0, a negative or non-finite alpha, a dropout outside [0, 1), or a field of the wrong type is an error
// naming the field), with the adapter kinds PEFT can write that this engine does not run refused by name.
// Torch-free, so the fuzz target reaches it without the engine.
#pragma once

#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::train {

struct PeftAdapterConfig {
    int r = 0;
    double lora_alpha = 0;
    double lora_dropout = 0;
    bool use_rslora = false;
    std::vector<std::string> target_modules;  // empty when the file names none
    std::string base_model_name_or_path;
};

// Ranks beyond this are no LoRA adapter (the largest published ones use 256).
constexpr int k_max_lora_rank = 65536;

// Parses the text of adapter_config.json; `context` (the file) prefixes errors.
Result<PeftAdapterConfig> parse_peft_adapter_config(const std::string& json_text, const std::string& context);

}  // namespace matrix::train
