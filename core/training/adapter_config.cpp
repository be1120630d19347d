#include "core/training/adapter_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/util/json_input.h"

namespace matrix::train {
namespace {

using nlohmann::json;

Error wrong_type(const std::string& field, const char* want, const json& v, const std::string& ctx) {
    return make_error("field '" + field + "' must be " + want + ", but is " + v.type_name(), ctx);
}

Result<bool> optional_bool(const json& cfg, const std::string& field, const std::string& ctx) {
    auto it = cfg.find(field);
    if (it == cfg.end() || it->is_null()) return false;
    if (!it->is_boolean()) return wrong_type(field, "true or false", *it, ctx);
    return it->get<bool>();
}

}  // namespace

Result<PeftAdapterConfig> parse_peft_adapter_config(const std::string& json_text, const std::string& context) {
    auto parsed = parse_json(json_text);
    if (!parsed.ok()) return parsed.error().within(context);
    const json& cfg = *parsed;
    if (!cfg.is_object()) return make_error(std::string("expected a JSON object, found ") + cfg.type_name(), context);

    if (auto it = cfg.find("peft_type"); it != cfg.end() && !it->is_null()) {
        if (!it->is_string()) return wrong_type("peft_type", "a string", *it, context);
        if (it->get<std::string>() != "LORA")
            return make_error("peft_type is " + it->get<std::string>() + ", only LORA adapters are supported", context);
    }
    MATRIX_TRY(bool dora, optional_bool(cfg, "use_dora", context));
    if (dora) return make_error("DoRA adapters (use_dora: true) are not supported", context);
    MATRIX_TRY(bool fan_in_fan_out, optional_bool(cfg, "fan_in_fan_out", context));
    if (fan_in_fan_out) return make_error("fan_in_fan_out adapters are not supported", context);

    PeftAdapterConfig out;
    auto r = cfg.find("r");
    if (r == cfg.end()) return make_error("field 'r' (the LoRA rank) is missing", context);
    if (!r->is_number_integer() && !(r->is_number_float() && std::floor(r->get<double>()) == r->get<double>()))
        return wrong_type("r", "a whole number", *r, context);
    const double rank = r->get<double>();
    if (!(rank >= 1 && rank <= k_max_lora_rank))
        return make_error("field 'r' is " + r->dump() + ", a LoRA rank must be 1.." + std::to_string(k_max_lora_rank),
                          context);
    out.r = static_cast<int>(rank);

    auto alpha = cfg.find("lora_alpha");
    if (alpha == cfg.end()) return make_error("field 'lora_alpha' is missing", context);
    if (!alpha->is_number()) return wrong_type("lora_alpha", "a number", *alpha, context);
    out.lora_alpha = alpha->get<double>();
    if (!std::isfinite(out.lora_alpha) || out.lora_alpha <= 0)
        return make_error("field 'lora_alpha' is " + alpha->dump() + ", it must be a positive number", context);

    if (auto it = cfg.find("lora_dropout"); it != cfg.end() && !it->is_null()) {
        if (!it->is_number()) return wrong_type("lora_dropout", "a number", *it, context);
        out.lora_dropout = it->get<double>();
        if (!(out.lora_dropout >= 0 && out.lora_dropout < 1))
            return make_error("field 'lora_dropout' is " + it->dump() + ", it must be in [0, 1)", context);
    }
    MATRIX_TRY(out.use_rslora, optional_bool(cfg, "use_rslora", context));

    if (auto it = cfg.find("target_modules"); it != cfg.end() && !it->is_null()) {
        if (it->is_string()) {
            out.target_modules = {it->get<std::string>()};
        } else if (it->is_array()) {
            for (size_t i = 0; i < it->size(); ++i) {
                const json& m = (*it)[i];
                if (!m.is_string())
                    return wrong_type("target_modules[" + std::to_string(i) + "]", "a string", m, context);
                out.target_modules.push_back(m.get<std::string>());
            }
        } else {
            return wrong_type("target_modules", "a list of module names or one name", *it, context);
        }
    }
    if (auto it = cfg.find("base_model_name_or_path"); it != cfg.end() && it->is_string())
        out.base_model_name_or_path = it->get<std::string>();
    return out;
}

}  // namespace matrix::train
