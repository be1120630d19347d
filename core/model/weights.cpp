// safetensors -> module parameters (see weights.h). The copy goes through Tensor::copy_ from a from_blob view of the
// mapping, so a BF16 checkpoint loaded as float32 (or sent to CUDA) is converted in one pass without a staging copy.
#include "core/model/weights.h"

#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/model/lora.h"
#include "core/util/error_text.h"
#include "core/util/json_input.h"

namespace matrix::model {

namespace {
bool file_exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
std::string shape_str(at::IntArrayRef s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}
}  // namespace

Result<torch::ScalarType> torch_dtype(DType t) {
    switch (t) {
        case DType::F64: return torch::kFloat64;
        case DType::F32: return torch::kFloat32;
        case DType::F16: return torch::kFloat16;
        case DType::BF16: return torch::kBFloat16;
        case DType::I64: return torch::kInt64;
        case DType::I32: return torch::kInt32;
        case DType::I16: return torch::kInt16;
        case DType::I8: return torch::kInt8;
        case DType::U8: return torch::kUInt8;
        case DType::BOOL: return torch::kBool;
    }
    return make_error("unsupported dtype");
}

Result<DType> safetensors_dtype(torch::ScalarType t) {
    switch (t) {
        case torch::kFloat64: return DType::F64;
        case torch::kFloat32: return DType::F32;
        case torch::kFloat16: return DType::F16;
        case torch::kBFloat16: return DType::BF16;
        case torch::kInt64: return DType::I64;
        case torch::kInt32: return DType::I32;
        case torch::kInt16: return DType::I16;
        case torch::kInt8: return DType::I8;
        case torch::kUInt8: return DType::U8;
        case torch::kBool: return DType::BOOL;
        default: return make_error(std::string("no safetensors dtype for ") + c10::toString(t));
    }
}

Result<torch::Tensor> view_tensor(const TensorView& v) {
    MATRIX_TRY(auto st, torch_dtype(v.dtype));
    std::vector<int64_t> shape = v.shape;
    return torch::from_blob(const_cast<uint8_t*>(v.data), shape, torch::TensorOptions().dtype(st));
}

Result<Checkpoint> Checkpoint::open(const std::string& path) {
    Checkpoint ck;
    std::vector<std::string> paths;
    const std::string index = path + "/model.safetensors.index.json";
    if (file_exists(index)) {
        try {
            MATRIX_TRY(auto j, read_json_file(index));
            std::set<std::string> shards;
            for (auto& [name, file] : j.at("weight_map").items()) shards.insert(file.get<std::string>());
            for (auto& s : shards) paths.push_back(path + "/" + s);
        } catch (const std::exception& e) {
            return make_error(one_line_error(e.what()), index);
        }
    } else if (file_exists(path + "/model.safetensors")) {
        paths.push_back(path + "/model.safetensors");
    } else if (file_exists(path)) {
        paths.push_back(path);
    } else {
        return make_error("no model.safetensors or model.safetensors.index.json", path);
    }
    for (auto& p : paths) {
        MATRIX_TRY(auto f, SafetensorsFile::open(p));
        for (auto& t : f->tensors()) {
            std::string name = canonical_param_name(t.name);
            if (ck.tensors.count(name))
                return make_error("tensor " + t.name + " appears twice (also as " + ck.file_name[name] + ")", p);
            ck.tensors[name] = &t;
            ck.file_name[name] = t.name;
        }
        ck.files.push_back(std::move(f));
    }
    return ck;
}

std::map<std::string, std::vector<int64_t>> Checkpoint::shapes() const {
    std::map<std::string, std::vector<int64_t>> out;
    for (auto& [name, v] : tensors) out[name] = v->shape;
    return out;
}

Status load_parameters(torch::nn::Module& module, const Checkpoint& ckpt, const std::set<std::string>& optional_names,
                       const std::set<std::string>& ignored_names) {
    torch::NoGradGuard no_grad;
    std::set<std::string> used;
    try {
        for (auto& item : module.named_parameters(true)) {
            const std::string& name = item.key();
            if (name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos) continue;
            auto it = ckpt.tensors.find(name);
            if (it == ckpt.tensors.end()) {
                if (optional_names.count(name)) continue;
                return make_error("tensor " + name + " is missing from the checkpoint", "loading weights");
            }
            torch::Tensor param = item.value();
            const TensorView& v = *it->second;
            if (param.sizes() != at::IntArrayRef(v.shape))
                return make_error("tensor " + ckpt.file_name.at(name) + " has shape " + shape_str(v.shape) +
                                      " but the model expects " + shape_str(param.sizes()),
                                  "loading weights");
            MATRIX_TRY(auto src, view_tensor(v));
            param.copy_(src);
            used.insert(name);
        }
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "loading weights");
    }
    for (auto& [name, v] : ckpt.tensors) {
        if (used.count(name) || ignored_names.count(name)) continue;
        return make_error("unexpected tensor " + ckpt.file_name.at(name) + " in the checkpoint (no such parameter)",
                          "loading weights");
    }
    return {};
}

}  // namespace matrix::model
