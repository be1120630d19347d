// The models `matrix serve` answers for: the base checkpoint and, for each --adapter NAME=DIR, a second module tree
// whose base weights are the base model's own tensors (shared storage, no copy) plus that PEFT adapter's LoRA
// branches. Each is a separate Qwen2VL, so requests for different adapters decode in separate batches while the
// large weights exist once.
// Thread safety: load once; the returned models are then used by the engine thread only.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/model/qwen2vl.h"
#include "core/util/result.h"

namespace matrix::serve {

struct AdapterSpec {
    std::string name;  // the model id clients ask for
    std::string dir;   // a PEFT adapter folder
};

// models[0] is the base; models[k] carries adapters[k - 1]. Errors name the folder.
Result<std::vector<model::Qwen2VL>> load_model_set(const std::string& model_dir, const std::vector<AdapterSpec>& adapters,
                                                   const model::LoadOptions& options);

// "NAME=DIR" -> AdapterSpec; error when either side is empty.
Result<AdapterSpec> parse_adapter_arg(const std::string& arg);

}  // namespace matrix::serve
