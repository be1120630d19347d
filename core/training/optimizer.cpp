// AdamW + warmup/cosine schedule + clipping, matching HF Trainer's defaults so that runs are comparable
// with LLaMA-Factory (MATRIX's trainer). Optimiser state is saved with torch's serialize archive.
#include "core/training/optimizer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <mutex>

#include "core/model/lora.h"
#include "core/util/error_text.h"

namespace matrix::train {

int64_t warmup_steps(int64_t total_steps, double warmup_ratio) {
    return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio - 1e-9));
}

double lr_factor(const std::string& scheduler, int64_t step, int64_t total_steps, double warmup_ratio) {
    const int64_t warm = warmup_steps(total_steps, warmup_ratio);
    if (step < warm) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warm));
    if (scheduler == "constant") return 1.0;
    const double progress =
        static_cast<double>(step - warm) / static_cast<double>(std::max<int64_t>(1, total_steps - warm));
    if (scheduler == "linear") return std::max(0.0, 1.0 - progress);
    return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));  // cosine, num_cycles 0.5
}

namespace {
bool no_decay(const std::string& name) {
    // HF Trainer: no weight decay on biases and LayerNorm/RMSNorm weights. LoRA matrices all decay.
    auto ends = [&](const char* s) {
        std::string suf(s);
        return name.size() >= suf.size() && name.compare(name.size() - suf.size(), suf.size(), suf) == 0;
    };
    return ends("bias") || name.find("norm") != std::string::npos || name.find("ln_") != std::string::npos;
}
}  // namespace

Optimizer::Optimizer(const std::vector<NamedParam>& params, const TrainingConfig& config, int64_t total_steps)
    : m_config(config), m_total(std::max<int64_t>(1, total_steps)) {
    std::vector<torch::Tensor> decay, plain;
    for (const auto& p : params) {
        m_params.push_back(p.tensor);
        (no_decay(p.name) ? plain : decay).push_back(p.tensor);
    }
    auto opts = [&](double wd) {
        return std::make_unique<torch::optim::AdamWOptions>(
            torch::optim::AdamWOptions(config.lr)
                .betas({config.adam_beta1, config.adam_beta2})
                .eps(config.adam_eps)
                .weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    // Group order fixed (decay first) so save/load match parameters by position.
    if (!decay.empty()) groups.emplace_back(decay, opts(config.weight_decay));
    if (!plain.empty()) groups.emplace_back(plain, opts(0.0));
    m_adam = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(config.lr));
}

double Optimizer::current_lr() const {
    return m_config.lr * lr_factor(m_config.scheduler, m_step, m_total, m_config.warmup_ratio);
}

void Optimizer::zero_grad() {
    for (auto& p : m_params)
        if (p.grad().defined()) p.mutable_grad().zero_();
}

double Optimizer::step() {
    const double lr = current_lr();
    for (auto& g : m_adam->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    double norm = 0;
    {
        torch::NoGradGuard ng;
        std::vector<torch::Tensor> grads;
        for (auto& p : m_params)
            if (p.grad().defined()) grads.push_back(p.grad().detach().to(torch::kFloat32).norm().pow(2));
        norm = grads.empty() ? 0.0 : std::sqrt(torch::stack(grads).sum().item<double>());
        if (m_config.grad_clip > 0 && std::isfinite(norm) && norm > m_config.grad_clip) {
            const double scale = m_config.grad_clip / (norm + 1e-6);  // as torch clip_grad_norm_
            for (auto& p : m_params)
                if (p.grad().defined()) p.mutable_grad().mul_(scale);
        }
    }
    if (std::isfinite(norm)) m_adam->step();
    zero_grad();
    ++m_step;
    return norm;
}

Status Optimizer::save(const std::string& path) const {
    try {
        torch::serialize::OutputArchive ar;
        m_adam->save(ar);
        ar.write("matrix_step", torch::tensor(m_step, torch::kInt64));
        std::string tmp = path + ".tmp";
        ar.save_to(tmp);
        if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error("rename failed", path);
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "saving optimizer state " + path);
    }
    return {};
}

Status Optimizer::load(const std::string& path) {
    try {
        torch::serialize::InputArchive ar;
        ar.load_from(path);
        m_adam->load(ar);
        torch::Tensor s;
        ar.read("matrix_step", s);
        m_step = s.item<int64_t>();
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "loading optimizer state " + path);
    }
    return {};
}

std::vector<NamedParam> lora_trainable_params(torch::nn::Module& model) {
    model::freeze_base_weights(model);
    std::vector<NamedParam> out;
    torch::NoGradGuard ng;
    for (auto& [name, t] : model::lora_parameters(model)) {
        if (t.scalar_type() != torch::kFloat32) t.set_data(t.to(torch::kFloat32));
        out.push_back({name, t});
    }
    return out;
}

void seed_everything(int64_t seed) {
    torch::manual_seed(static_cast<uint64_t>(seed));
    if (torch::cuda::is_available()) torch::cuda::manual_seed_all(static_cast<uint64_t>(seed));
}

torch::Tensor cpu_rng_state() {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    return gen.get_state().clone();
}

void set_cpu_rng_state(const torch::Tensor& state) {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state.to(torch::kCPU).to(torch::kUInt8));
}

}  // namespace matrix::train
