// Base model + adapters sharing its weights (see model_set.h).
#include "core/serve/engine/model_set.h"

#include <map>

#include "core/training/adapter_io.h"
#include "core/util/error_text.h"

namespace matrix::serve {

Result<AdapterSpec> parse_adapter_arg(const std::string& arg) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
        return make_error("--adapter wants NAME=DIR, got '" + arg + "'");
    return AdapterSpec{arg.substr(0, eq), arg.substr(eq + 1)};
}

Result<std::vector<model::Qwen2VL>> load_model_set(const std::string& model_dir, const std::vector<AdapterSpec>& adapters,
                                                   const model::LoadOptions& options) {
    std::vector<model::Qwen2VL> out;
    MATRIX_TRY(auto base, model::load_qwen2vl(model_dir, options));
    out.push_back(base);
    std::map<std::string, torch::Tensor> base_params;
    for (auto& p : base->named_parameters(true)) base_params[p.key()] = p.value();
    for (const AdapterSpec& a : adapters) {
        try {
            torch::NoGradGuard no_grad;
            // Built like the base (LibTorch 1.13 cannot re-point a meta tensor at real storage), then every
            // parameter is pointed at the base's tensor; the fresh, never-written storage is freed right away.
            model::Qwen2VL m(base->cfg, torch::TensorOptions().dtype(base->dtype()).device(base->device()));
            for (auto& p : m->named_parameters(true)) {
                auto it = base_params.find(p.key());
                if (it == base_params.end()) return make_error("parameter " + p.key() + " missing from the base", a.dir);
                p.value().set_data(it->second);
            }
            auto spec = train::load_peft_adapter(*m, a.dir);
            if (!spec.ok()) return spec.error().within("adapter " + a.name);
            m->eval();
            out.push_back(m);
        } catch (const std::exception& e) {
            return make_error(one_line_error(e.what()), "loading adapter " + a.name + " (" + a.dir + ")");
        }
    }
    return out;
}

}  // namespace matrix::serve
