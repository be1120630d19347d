// LoRA-wrapped Linear (see lora.h). Behaviour follows peft's tuners/lora/layer.py (Linear.forward: result +
// lora_B(lora_A(dropout(x))) * scaling; scaling = alpha / r, or alpha / sqrt(r) with rslora). Adapter files are
// core/training/adapter_io.
#include "core/model/lora.h"

#include <cmath>
#include <map>

#include "core/util/error_text.h"


namespace matrix::model {

namespace {
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
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
    weight.add_(lora_delta(lora_A->weight, lora_B->weight, m_scaling).to(weight.device(), weight.scalar_type()));
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
        return make_error(one_line_error(e.what()), "attaching LoRA");
    }
    if (wrapped.empty()) return make_error("no module matches the LoRA target_modules", "attaching LoRA");
    return wrapped;
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

torch::Tensor lora_delta(const torch::Tensor& a, const torch::Tensor& b, double scaling) {
    return torch::matmul(b.to(torch::kFloat32), a.to(torch::kFloat32)) * scaling;
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
