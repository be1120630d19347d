// LoRA-wrapped Linear and PEFT adapter I/O (see lora.h). Behaviour follows peft's tuners/lora/layer.py
// (Linear.forward: result + lora_B(lora_A(dropout(x))) * scaling; scaling = alpha / r, or alpha / sqrt(r) with
// rslora) and its save format (adapter_config.json + adapter_model.safetensors without the adapter name).
#include "core/model/lora.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/model/weights.h"
#include "core/util/safetensors.h"

namespace matrix::model {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool file_exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool dir_exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
std::string last_component(const std::string& path) {
    auto pos = path.rfind('.');
    return pos == std::string::npos ? path : path.substr(pos + 1);
}
}  // namespace

LinearImpl::LinearImpl(int64_t in, int64_t out, bool with_bias, const torch::TensorOptions& options)
    : in_features(in), out_features(out) {
    weight = register_parameter("weight", torch::empty({out, in}, options));
    if (with_bias) bias = register_parameter("bias", torch::empty({out}, options));
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
    auto y = torch::nn::functional::linear(x, weight, bias);
    if (!lora_A.is_empty() && m_lora_enabled) {
        auto h = x;
        if (m_dropout > 0.0 && is_training()) h = torch::dropout(h, m_dropout, true);
        h = torch::nn::functional::linear(h.to(lora_A->weight.scalar_type()), lora_A->weight);
        h = torch::nn::functional::linear(h, lora_B->weight);
        y = y + (h * m_scaling).to(y.scalar_type());
    }
    return y;
}

void LinearImpl::add_lora(int64_t r, double alpha, double dropout, bool use_rslora) {
    remove_lora();
    auto opts = weight.options().requires_grad(true);
    auto a = torch::empty({r, in_features}, opts);
    auto b = torch::zeros({out_features, r}, opts);
    {
        torch::NoGradGuard ng;
        // kaiming_uniform_(a=sqrt(5)) as nn.Linear and PEFT's default init: bound = 1/sqrt(fan_in).
        const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
        a.uniform_(-bound, bound);
    }
    lora_A = register_module("lora_A", Weight(a));
    lora_B = register_module("lora_B", Weight(b));
    m_scaling = use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
    m_dropout = dropout;
    m_lora_enabled = true;
}

void LinearImpl::remove_lora() {
    if (lora_A.is_empty()) return;
    unregister_module("lora_A");
    unregister_module("lora_B");
    lora_A = Weight(nullptr);
    lora_B = Weight(nullptr);
}

void LinearImpl::merge_lora() {
    if (lora_A.is_empty()) return;
    torch::NoGradGuard ng;
    auto delta = torch::matmul(lora_B->weight.to(torch::kFloat32), lora_A->weight.to(torch::kFloat32)) * m_scaling;
    weight.add_(delta.to(weight.scalar_type()));
    remove_lora();
}

std::string canonical_param_name(const std::string& key) {
    std::string k = key;
    if (starts_with(k, "base_model.model.")) k = k.substr(17);
    for (const char* adapter_tag : {".default."}) {
        auto pos = k.find(adapter_tag);
        if (pos != std::string::npos) k.erase(pos, std::string(adapter_tag).size() - 1);
    }
    if (starts_with(k, "model.language_model.")) k = "model." + k.substr(21);
    else if (starts_with(k, "model.visual.")) k = k.substr(6);
    else if (starts_with(k, "language_model.model.")) k = "model." + k.substr(21);  // transformers 4.5x layout
    else if (starts_with(k, "language_model.lm_head.")) k = k.substr(15);
    return k;
}

static std::map<std::string, LinearImpl*> linear_modules(torch::nn::Module& model) {
    std::map<std::string, LinearImpl*> out;
    for (auto& item : model.named_modules("", false)) {
        if (auto* lin = dynamic_cast<LinearImpl*>(item.value().get())) out[item.key()] = lin;
    }
    return out;
}

Result<std::vector<std::string>> attach_lora(torch::nn::Module& model, const LoraConfig& cfg) {
    std::vector<std::string> wrapped;
    if (cfg.r <= 0) return make_error("LoRA rank must be positive", "attaching LoRA");
    try {
        for (auto& [path, lin] : linear_modules(model)) {
            if (!cfg.include_vision && starts_with(path, "visual.")) continue;
            // Matching by leaf name reaches lm_head only when "lm_head" is listed (PEFT allows it; it lifts the cap
            // a frozen head puts on how far SFT can move the logits, at the cost of vLLM serving the adapter).
            const std::string leaf = last_component(path);
            bool match = false;
            for (auto& t : cfg.target_modules) match = match || t == leaf || t == path;
            if (!match) continue;
            lin->add_lora(cfg.r, cfg.alpha, cfg.dropout, cfg.use_rslora);
            wrapped.push_back(path);
        }
    } catch (const std::exception& e) {
        return make_error(e.what(), "attaching LoRA");
    }
    if (wrapped.empty()) return make_error("no module matches the LoRA target_modules", "attaching LoRA");
    return wrapped;
}

static Result<LoraConfig> read_adapter_config(const std::string& path) {
    LoraConfig cfg;
    try {
        std::ifstream in(path);
        if (!in) return make_error("cannot open file", path);
        auto j = nlohmann::json::parse(in);
        cfg.r = j.value("r", cfg.r);
        cfg.alpha = j.value("lora_alpha", cfg.alpha);
        if (j.contains("lora_dropout") && j["lora_dropout"].is_number()) cfg.dropout = j["lora_dropout"].get<double>();
        if (j.contains("use_rslora") && j["use_rslora"].is_boolean()) cfg.use_rslora = j["use_rslora"].get<bool>();
        if (j.contains("target_modules")) {
            cfg.target_modules.clear();
            if (j["target_modules"].is_array())
                for (auto& t : j["target_modules"]) cfg.target_modules.push_back(t.get<std::string>());
            else if (j["target_modules"].is_string())
                cfg.target_modules.push_back(j["target_modules"].get<std::string>());
        }
        if (j.value("fan_in_fan_out", false)) return make_error("fan_in_fan_out adapters are not supported", path);
        if (j.contains("peft_type") && j["peft_type"] != "LORA")
            return make_error("peft_type is " + j["peft_type"].dump() + ", only LORA is supported", path);
    } catch (const std::exception& e) {
        return make_error(e.what(), path);
    }
    return cfg;
}

Result<LoraConfig> load_peft_adapter(torch::nn::Module& model, const std::string& path, const LoraConfig* fallback) {
    std::string weights_path, config_path;
    if (dir_exists(path)) {
        weights_path = path + "/adapter_model.safetensors";
        config_path = path + "/adapter_config.json";
    } else {
        weights_path = path;
        std::string stem = ends_with(path, ".safetensors") ? path.substr(0, path.size() - 12) : path;
        auto slash = path.rfind('/');
        std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
        config_path = file_exists(dir + "/adapter_config.json") ? dir + "/adapter_config.json" : stem + ".json";
    }
    LoraConfig cfg;
    if (file_exists(config_path)) {
        MATRIX_TRY(cfg, read_adapter_config(config_path));
    } else if (fallback) {
        cfg = *fallback;
    } else {
        return make_error("no adapter_config.json", path);
    }
    MATRIX_TRY(auto file, SafetensorsFile::open(weights_path));
    auto linears = linear_modules(model);
    // Group tensors by module: path -> {A, B}.
    std::map<std::string, std::pair<const TensorView*, const TensorView*>> by_module;
    for (auto& t : file->tensors()) {
        std::string name = canonical_param_name(t.name);
        bool is_a = ends_with(name, ".lora_A.weight"), is_b = ends_with(name, ".lora_B.weight");
        if (!is_a && !is_b)
            return make_error("tensor " + t.name + " is not a LoRA A/B matrix (only LoRA adapters are supported)",
                              weights_path);
        std::string module = name.substr(0, name.size() - 14);
        if (!linears.count(module))
            return make_error("tensor " + t.name + " targets " + module + ", which is not a linear layer of the model",
                              weights_path);
        (is_a ? by_module[module].first : by_module[module].second) = &t;
    }
    if (by_module.empty()) return make_error("adapter holds no LoRA tensors", weights_path);
    try {
        torch::NoGradGuard ng;
        for (auto& [module, ab] : by_module) {
            if (!ab.first || !ab.second)
                return make_error("module " + module + " has only one of lora_A / lora_B", weights_path);
            LinearImpl* lin = linears.at(module);
            const auto& a = *ab.first;
            const auto& b = *ab.second;
            const int64_t r = a.shape.at(0);
            if (a.shape != std::vector<int64_t>{r, lin->in_features} || b.shape != std::vector<int64_t>{lin->out_features, r})
                return make_error("LoRA shapes of " + module + " do not match the layer (" + std::to_string(lin->out_features) +
                                      " x " + std::to_string(lin->in_features) + ")",
                                  weights_path);
            // scaling = alpha / r with the adapter's r; a per-module rank pattern is not supported.
            if (r != cfg.r)
                return make_error("module " + module + " has rank " + std::to_string(r) + " but adapter_config r is " +
                                      std::to_string(cfg.r),
                                  weights_path);
            lin->add_lora(r, cfg.alpha, cfg.dropout, cfg.use_rslora);
            MATRIX_TRY(auto ta, view_tensor(a));
            MATRIX_TRY(auto tb, view_tensor(b));
            lin->lora_A->weight.copy_(ta);
            lin->lora_B->weight.copy_(tb);
        }
    } catch (const std::exception& e) {
        return make_error(e.what(), "loading adapter " + weights_path);
    }
    return cfg;
}

std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(torch::nn::Module& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& item : model.named_parameters(true)) {
        const auto& n = item.key();
        if (n.find(".lora_A.") != std::string::npos || n.find(".lora_B.") != std::string::npos)
            out.emplace_back("base_model.model." + n, item.value());
    }
    return out;
}

Status save_peft_adapter(torch::nn::Module& model, const LoraConfig& cfg, const std::string& dir,
                         const std::string& base_model_name) {
    try {
        ::mkdir(dir.c_str(), 0755);
        auto params = lora_parameters(model);
        if (params.empty()) return make_error("the model has no LoRA parameters", dir);
        std::vector<torch::Tensor> keep;
        std::vector<TensorToWrite> out;
        for (auto& [name, t] : params) {
            keep.push_back(t.detach().to(torch::kCPU, torch::kFloat32).contiguous());
            out.push_back({name, DType::F32, keep.back().sizes().vec(), keep.back().data_ptr()});
        }
        MATRIX_CHECK(write_safetensors(dir + "/adapter_model.safetensors", out, {{"format", "pt"}}));
        nlohmann::json j;
        j["peft_type"] = "LORA";
        j["task_type"] = "CAUSAL_LM";
        j["r"] = cfg.r;
        j["lora_alpha"] = cfg.alpha;
        j["lora_dropout"] = cfg.dropout;
        j["bias"] = "none";
        j["target_modules"] = cfg.target_modules;
        j["base_model_name_or_path"] = base_model_name;
        j["fan_in_fan_out"] = false;
        j["inference_mode"] = true;
        j["use_rslora"] = cfg.use_rslora;
        const std::string tmp = dir + "/adapter_config.json.tmp";
        {
            std::ofstream o(tmp);
            o << j.dump(2) << "\n";
            if (!o) return make_error("cannot write", tmp);
        }
        if (std::rename(tmp.c_str(), (dir + "/adapter_config.json").c_str()) != 0)
            return make_error("cannot rename", tmp);
    } catch (const std::exception& e) {
        return make_error(e.what(), "saving adapter to " + dir);
    }
    return {};
}

void set_lora_enabled(torch::nn::Module& model, bool on) {
    for (auto& [path, lin] : linear_modules(model)) lin->set_lora_enabled(on);
}

void freeze_base_weights(torch::nn::Module& model) {
    for (auto& item : model.named_parameters(true)) {
        const auto& n = item.key();
        const bool lora = n.find(".lora_A.") != std::string::npos || n.find(".lora_B.") != std::string::npos;
        item.value().set_requires_grad(lora);
    }
}

}  // namespace matrix::model
