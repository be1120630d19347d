// config.json parsing for Qwen2-VL, both layouts (see config.h). Key names follow transformers'
// configuration_qwen2_vl.py: Qwen2VLTextConfig / Qwen2VLVisionConfig and the legacy flat Qwen2VLConfig.
#include "core/model/config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "core/util/json_input.h"

namespace matrix::model {

namespace {
using nlohmann::json;

// A field when present: integers must be whole numbers (64.5 is not a width), the wrong JSON type is an error
// naming the key (never the JSON library's message).
template <class T>
void read_opt(const json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) throw std::runtime_error(std::string(key) + " must be true or false, not " + it->dump());
    } else if constexpr (std::is_integral_v<T>) {
        if (!it->is_number_integer())
            throw std::runtime_error(std::string(key) + " must be a whole number, not " + it->dump());
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!it->is_number()) throw std::runtime_error(std::string(key) + " must be a number, not " + it->dump());
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) throw std::runtime_error(std::string(key) + " must be a string, not " + it->dump());
    }
    out = it->get<T>();
}

std::vector<int64_t> id_list(const json& v) {
    std::vector<int64_t> out;
    if (v.is_array())
        for (auto& x : v) out.push_back(x.get<int64_t>());
    else if (v.is_number_integer())
        out.push_back(v.get<int64_t>());
    return out;
}

Result<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot open file", path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string shape_str(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}
}  // namespace

Result<Qwen2VLConfig> parse_config(const std::string& json_text, const std::string& context) {
    Qwen2VLConfig cfg;
    try {
        auto parsed = parse_json(json_text);
        if (!parsed.ok()) return parsed.error().within(context);
        json root = std::move(parsed).value();
        if (!root.is_object()) return make_error("not a JSON object", context);
        const bool nested = root.contains("text_config") && root["text_config"].is_object();
        cfg.layout = nested ? "nested" : "flat";
        const json& t = nested ? root["text_config"] : root;

        TextConfig& tc = cfg.text;
        read_opt(t, "vocab_size", tc.vocab_size);
        read_opt(t, "hidden_size", tc.hidden_size);
        read_opt(t, "intermediate_size", tc.intermediate_size);
        read_opt(t, "num_hidden_layers", tc.num_hidden_layers);
        read_opt(t, "num_attention_heads", tc.num_attention_heads);
        tc.num_key_value_heads = tc.num_attention_heads;
        read_opt(t, "num_key_value_heads", tc.num_key_value_heads);
        read_opt(t, "head_dim", tc.head_dim);
        read_opt(t, "rms_norm_eps", tc.rms_norm_eps);
        read_opt(t, "max_position_embeddings", tc.max_position_embeddings);
        read_opt(t, "hidden_act", tc.hidden_act);
        read_opt(t, "rope_theta", tc.rope_theta);
        // M-RoPE sections: rope_parameters (transformers 5) or rope_scaling (published checkpoints), in the
        // text config or at top level.
        bool have_section = false;
        for (const json* scope : std::initializer_list<const json*>{&t, &root}) {
            for (const char* key : {"rope_parameters", "rope_scaling"}) {
                auto it = scope->find(key);
                if (it == scope->end() || !it->is_object()) continue;
                read_opt(*it, "rope_theta", tc.rope_theta);
                if (it->contains("mrope_section") && !have_section) {
                    tc.mrope_section = (*it)["mrope_section"].get<std::vector<int64_t>>();
                    have_section = true;
                }
            }
        }
        if (!have_section) return make_error("no mrope_section in rope_parameters or rope_scaling", context);
        if (tc.mrope_section.size() != 3)
            return make_error("mrope_section must have 3 entries (temporal, height, width)", context);

        read_opt(root, "tie_word_embeddings", cfg.tie_word_embeddings);
        if (nested && !root.contains("tie_word_embeddings")) read_opt(t, "tie_word_embeddings", cfg.tie_word_embeddings);
        read_opt(root, "image_token_id", cfg.image_token_id);
        read_opt(root, "video_token_id", cfg.video_token_id);
        read_opt(root, "vision_start_token_id", cfg.vision_start_token_id);
        read_opt(root, "vision_end_token_id", cfg.vision_end_token_id);
        for (const json* scope : std::initializer_list<const json*>{&root, &t}) {
            if (scope->contains("eos_token_id") && !(*scope)["eos_token_id"].is_null())
                cfg.eos_token_ids = id_list((*scope)["eos_token_id"]);
            read_opt(*scope, "bos_token_id", cfg.bos_token_id);
            read_opt(*scope, "pad_token_id", cfg.pad_token_id);
        }

        if (!root.contains("vision_config") || !root["vision_config"].is_object())
            return make_error("no vision_config object", context);
        const json& v = root["vision_config"];
        VisionConfig& vc = cfg.vision;
        read_opt(v, "depth", vc.depth);
        read_opt(v, "embed_dim", vc.embed_dim);
        read_opt(v, "hidden_size", vc.hidden_size);
        read_opt(v, "num_heads", vc.num_heads);
        read_opt(v, "mlp_ratio", vc.mlp_ratio);
        read_opt(v, "in_chans", vc.in_channels);
        read_opt(v, "in_channels", vc.in_channels);
        read_opt(v, "patch_size", vc.patch_size);
        read_opt(v, "spatial_merge_size", vc.spatial_merge_size);
        read_opt(v, "temporal_patch_size", vc.temporal_patch_size);
        read_opt(v, "hidden_act", vc.hidden_act);
        if (v.contains("rope_parameters") && v["rope_parameters"].is_object())
            read_opt(v["rope_parameters"], "rope_theta", vc.rope_theta);
        // Published flat configs leave vision hidden_size as the LM width; transformers 5 writes it explicitly.
        if (!v.contains("hidden_size")) vc.hidden_size = tc.hidden_size;
    } catch (const std::exception& e) {
        return make_error(e.what(), context);
    }
    const auto& tc = cfg.text;
    const auto positive = [&](const char* what, double v) -> Status {
        if (!(v > 0) || !std::isfinite(v))
            return make_error(std::string(what) + " must be a positive finite number, not " + json(v).dump(), context);
        return {};
    };
    // Values that give NaN logits or empty tensors downstream rather than an error.
    MATRIX_CHECK(positive("rope_theta", tc.rope_theta));
    MATRIX_CHECK(positive("rms_norm_eps", tc.rms_norm_eps));
    MATRIX_CHECK(positive("vision rope_theta", cfg.vision.rope_theta));
    MATRIX_CHECK(positive("vision mlp_ratio", cfg.vision.mlp_ratio));
    for (auto [what, v] : std::initializer_list<std::pair<const char*, int64_t>>{
             {"vocab_size", tc.vocab_size}, {"hidden_size", tc.hidden_size}, {"intermediate_size", tc.intermediate_size},
             {"num_hidden_layers", tc.num_hidden_layers}, {"max_position_embeddings", tc.max_position_embeddings},
             {"vision depth", cfg.vision.depth}, {"vision embed_dim", cfg.vision.embed_dim},
             {"vision hidden_size", cfg.vision.hidden_size}, {"vision in_channels", cfg.vision.in_channels},
             {"vision patch_size", cfg.vision.patch_size}, {"vision spatial_merge_size", cfg.vision.spatial_merge_size},
             {"vision temporal_patch_size", cfg.vision.temporal_patch_size}})
        if (v <= 0) return make_error(std::string(what) + " must be positive, not " + std::to_string(v), context);
    if (tc.head_dim < 0) return make_error("head_dim must not be negative", context);
    for (int64_t s : tc.mrope_section)
        if (s < 0) return make_error("mrope_section entries must not be negative", context);
    if (tc.num_attention_heads <= 0 || tc.num_key_value_heads <= 0 ||
        tc.num_attention_heads % tc.num_key_value_heads != 0)
        return make_error("num_attention_heads must be a positive multiple of num_key_value_heads", context);
    if (cfg.vision.num_heads <= 0 || cfg.vision.embed_dim % cfg.vision.num_heads != 0)
        return make_error("vision embed_dim must be a multiple of num_heads", context);
    int64_t sec = 0;
    for (auto s : tc.mrope_section) sec += s;
    if (tc.head_dim == 0 && tc.hidden_size % tc.num_attention_heads != 0)
        return make_error("hidden_size must be a multiple of num_attention_heads", context);
    if (sec * 2 != tc.attn_head_dim())
        return make_error("mrope_section sums to " + std::to_string(sec) + " but head_dim/2 is " +
                              std::to_string(tc.attn_head_dim() / 2),
                          context);
    return cfg;
}

Result<Qwen2VLConfig> load_config(const std::string& model_dir) {
    const std::string path = model_dir + "/config.json";
    MATRIX_TRY(std::string text, read_text(path));
    MATRIX_TRY(Qwen2VLConfig cfg, parse_config(text, path));
    const std::string gen_path = model_dir + "/generation_config.json";
    std::ifstream probe(gen_path);
    if (probe) {
        MATRIX_TRY(std::string gtext, read_text(gen_path));
        try {
            auto parsed = parse_json(gtext);
            if (!parsed.ok()) return parsed.error().within(gen_path);
            auto g = std::move(parsed).value();
            if (g.contains("eos_token_id") && !g["eos_token_id"].is_null()) {
                auto ids = id_list(g["eos_token_id"]);
                if (!ids.empty()) cfg.eos_token_ids = ids;
            }
            if (g.contains("pad_token_id") && g["pad_token_id"].is_number_integer())
                cfg.pad_token_id = g["pad_token_id"].get<int64_t>();
        } catch (const std::exception& e) {
            return make_error(e.what(), gen_path);
        }
    }
    return cfg;
}

Status reconcile_with_weights(Qwen2VLConfig& cfg, const std::map<std::string, std::vector<int64_t>>& shapes) {
    auto get = [&](const std::string& name) -> const std::vector<int64_t>* {
        auto it = shapes.find(name);
        return it == shapes.end() ? nullptr : &it->second;
    };
    auto mismatch = [](const std::string& key, int64_t cfg_value, const std::string& tensor,
                       const std::vector<int64_t>& shape) {
        return make_error("config " + key + " = " + std::to_string(cfg_value) + " disagrees with weight " + tensor +
                              " of shape " + shape_str(shape),
                          "checking config against weights");
    };
    auto& tc = cfg.text;
    auto& vc = cfg.vision;
    if (auto s = get("model.embed_tokens.weight")) {
        if (s->size() != 2) return make_error("model.embed_tokens.weight is not 2-D", "checking config against weights");
        if ((*s)[1] != tc.hidden_size) return mismatch("hidden_size", tc.hidden_size, "model.embed_tokens.weight", *s);
        if ((*s)[0] != tc.vocab_size) return mismatch("vocab_size", tc.vocab_size, "model.embed_tokens.weight", *s);
    }
    if (!get("lm_head.weight") && !cfg.tie_word_embeddings) {
        // A checkpoint without lm_head can only mean tied embeddings; say so instead of failing late.
        return make_error("tensor lm_head.weight is missing and tie_word_embeddings is false",
                          "checking config against weights");
    }
    // Layer count from the weights.
    int64_t n_layers = 0;
    while (get("model.layers." + std::to_string(n_layers) + ".input_layernorm.weight")) ++n_layers;
    if (n_layers != tc.num_hidden_layers)
        return make_error("config num_hidden_layers = " + std::to_string(tc.num_hidden_layers) + " but the weights have " +
                              std::to_string(n_layers) + " layers",
                          "checking config against weights");
    if (auto s = get("model.layers.0.self_attn.q_proj.weight")) {
        int64_t hd = tc.attn_head_dim();
        if ((*s)[0] != tc.num_attention_heads * hd)
            return mismatch("num_attention_heads*head_dim", tc.num_attention_heads * hd, "model.layers.0.self_attn.q_proj.weight", *s);
    }
    if (auto s = get("model.layers.0.self_attn.k_proj.weight")) {
        if ((*s)[0] != tc.num_key_value_heads * tc.attn_head_dim())
            return mismatch("num_key_value_heads", tc.num_key_value_heads, "model.layers.0.self_attn.k_proj.weight", *s);
    }
    if (auto s = get("model.layers.0.mlp.gate_proj.weight")) {
        if ((*s)[0] != tc.intermediate_size)
            return mismatch("intermediate_size", tc.intermediate_size, "model.layers.0.mlp.gate_proj.weight", *s);
    }
    int64_t v_depth = 0;
    while (get("visual.blocks." + std::to_string(v_depth) + ".norm1.weight")) ++v_depth;
    if (v_depth != vc.depth)
        return make_error("vision_config depth = " + std::to_string(vc.depth) + " but the weights have " +
                              std::to_string(v_depth) + " vision blocks",
                          "checking config against weights");
    if (auto s = get("visual.patch_embed.proj.weight")) {
        if (s->size() != 5 || (*s)[0] != vc.embed_dim || (*s)[1] != vc.in_channels || (*s)[2] != vc.temporal_patch_size ||
            (*s)[3] != vc.patch_size || (*s)[4] != vc.patch_size)
            return mismatch("embed_dim/in_chans/temporal_patch_size/patch_size", vc.embed_dim, "visual.patch_embed.proj.weight", *s);
    }
    if (auto s = get("visual.blocks.0.mlp.fc1.weight")) {
        if ((*s)[0] != vc.mlp_hidden())
            return mismatch("vision mlp_ratio*embed_dim", vc.mlp_hidden(), "visual.blocks.0.mlp.fc1.weight", *s);
    }
    if (auto s = get("visual.merger.mlp.2.weight")) {
        if ((*s)[0] != tc.hidden_size)
            return mismatch("hidden_size (merger output)", tc.hidden_size, "visual.merger.mlp.2.weight", *s);
        vc.hidden_size = (*s)[0];
    }
    return {};
}

}  // namespace matrix::model
