// Checkpoint access for the engine: a model directory's safetensors (single model.safetensors or shards listed in
// model.safetensors.index.json), memory-mapped by core/util/safetensors.h, with names mapped to the module tree's
// (published names; transformers-5 names model.language_model.* / model.visual.* are mapped, see
// canonical_param_name). Loading copies each mapped tensor once, straight into the parameter's dtype and device.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/util/result.h"
#include "core/util/safetensors.h"

namespace matrix::model {

Result<torch::ScalarType> torch_dtype(DType t);
Result<DType> safetensors_dtype(torch::ScalarType t);

// A tensor aliasing the read-only mapping (no copy). Never write to it; it lives as long as the file.
Result<torch::Tensor> view_tensor(const TensorView& v);

struct Checkpoint {
    std::vector<std::shared_ptr<SafetensorsFile>> files;
    std::map<std::string, const TensorView*> tensors;  // canonical name -> view
    std::map<std::string, std::string> file_name;      // canonical name -> name as stored in the file

    // DIR/model.safetensors.index.json (shards), else DIR/model.safetensors, else a single .safetensors file path.
    static Result<Checkpoint> open(const std::string& path);
    std::map<std::string, std::vector<int64_t>> shapes() const;
};

// Copies every parameter of `module` (named as in the module tree, LoRA matrices excluded) from the checkpoint.
// `optional_names`: parameters that may be absent (kept as they are). `ignored_names`: checkpoint tensors that may
// be present but are not loaded (lm_head.weight of a tied model). A missing parameter, a shape mismatch or a
// checkpoint tensor that belongs to nothing is an error naming the tensor.
Status load_parameters(torch::nn::Module& module, const Checkpoint& ckpt, const std::set<std::string>& optional_names = {},
                       const std::set<std::string>& ignored_names = {});

}  // namespace matrix::model
