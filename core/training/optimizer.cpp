// AdamW + warmup/cosine schedule + clipping, matching HF Trainer's defaults so that runs are comparable
// with LLaMA-Factory (MATRIX's trainer). Optimiser state is saved with torch's serialize archive.
#include "core/training/optimizer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <type_traits>

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
            if (p.grad().defined()) grads.push_back(p.grad());
        if (!grads.empty()) {
            // One multi-tensor norm and one reduction; float32 as the grads of fp32 master weights are.
            std::vector<torch::Tensor> f32;
            for (const auto& g : grads) f32.push_back(g.scalar_type() == torch::kFloat32 ? g : g.to(torch::kFloat32));
            norm = std::sqrt(torch::stack(at::_foreach_norm(f32)).pow(2).sum().item<double>());
        }
        if (m_config.grad_clip > 0 && std::isfinite(norm) && norm > m_config.grad_clip && !grads.empty()) {
            const double scale = m_config.grad_clip / (norm + 1e-6);  // as torch clip_grad_norm_
            at::_foreach_mul_(grads, scale);
        }
    }
    if (std::isfinite(norm)) adamw_update();
    zero_grad();
    ++m_step;
    return norm;
}

namespace {
// torch::optim keys a parameter's state by its TensorImpl: as the pointer printed to a string (LibTorch 1.13, what
// c10::guts::to_string gives) or, in later versions, as the pointer itself.
template <class Map>
typename Map::mapped_type& state_slot(Map& states, const torch::Tensor& p) {
    if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
        std::ostringstream key;
        key << p.unsafeGetTensorImpl();
        return states[key.str()];
    } else {
        return states[p.unsafeGetTensorImpl()];
    }
}
}  // namespace

void Optimizer::adamw_update(bool per_parameter) {
    if (per_parameter) {
        m_adam->step();
        return;
    }
    torch::NoGradGuard ng;
    auto& states = m_adam->state();
    for (auto& group : m_adam->param_groups()) {
        const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
        const double lr = o.lr(), wd = o.weight_decay(), eps = o.eps();
        const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
        // Parameters batched by their step count (all equal in a run: every LoRA matrix gets a grad each step).
        std::map<int64_t, std::vector<size_t>> by_step;
        std::vector<torch::Tensor> params, grads, avg, avg_sq;
        for (auto& p : group.params()) {
            if (!p.grad().defined()) continue;
            auto& slot = state_slot(states, p);
            if (!slot) {  // as torch::optim::AdamW initialises its state
                auto st = std::make_unique<torch::optim::AdamWParamState>();
                st->step(0);
                st->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                st->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                slot = std::move(st);
            }
            auto& st = static_cast<torch::optim::AdamWParamState&>(*slot);
            st.step(st.step() + 1);
            by_step[st.step()].push_back(params.size());
            params.push_back(p);
            grads.push_back(p.grad());
            avg.push_back(st.exp_avg());
            avg_sq.push_back(st.exp_avg_sq());
        }
        for (const auto& [step, idx] : by_step) {
            auto pick = [&](const std::vector<torch::Tensor>& v) {
                std::vector<torch::Tensor> out;
                for (size_t i : idx) out.push_back(v[i]);
                return out;
            };
            auto p = pick(params), g = pick(grads), m = pick(avg), v = pick(avg_sq);
            // The same operations, in the same order, as torch::optim::AdamW::step for each parameter.
            if (wd != 0) at::_foreach_mul_(p, 1 - lr * wd);
            const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
            const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
            at::_foreach_mul_(m, beta1);
            at::_foreach_add_(m, g, 1 - beta1);
            at::_foreach_mul_(v, beta2);
            at::_foreach_addcmul_(v, g, g, 1 - beta2);
            auto denom = at::_foreach_sqrt(v);
            at::_foreach_div_(denom, std::sqrt(bc2));
            at::_foreach_add_(denom, eps);
            at::_foreach_addcdiv_(p, m, denom, -lr / bc1);
        }
    }
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
