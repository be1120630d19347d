// PEFT adapter save/read and LoRA merging. The adapter_config.json carries only fields that PEFT has accepted
// since 0.9 and that vLLM's PEFTHelper reads (r, lora_alpha, target_modules, bias, use_rslora, use_dora,
// modules_to_save), so older and newer loaders both take it.
#include "core/training/adapter_io.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/model/lora.h"
#include "core/training/adapter_config.h"
#include "core/model/weights.h"
#include "core/util/error_text.h"
#include "core/util/json_input.h"
#include "core/util/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train {

namespace {

// adapter_config.json is a few hundred bytes; anything this large is not one.
constexpr uint64_t k_max_adapter_config_bytes = uint64_t{16} << 20;

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

void strip_suffix(std::string& s, const std::string& suf) {
    if (s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0)
        s.resize(s.size() - suf.size());
}

Status write_json_atomic(const std::string& path, const json& j) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return make_error("cannot write", tmp);
        out << j.dump(2) << "\n";
        if (!out) return make_error("write failed", tmp);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return make_error("rename failed: " + ec.message(), path);
    return {};
}

}  // namespace

char lora_matrix_kind(const std::string& name) {
    if (name.find("lora_A") != std::string::npos || name.find("lora_a") != std::string::npos) return 'A';
    if (name.find("lora_B") != std::string::npos || name.find("lora_b") != std::string::npos) return 'B';
    return 0;
}

std::string lora_module_path(const std::string& name) {
    std::string s = name;
    auto cut = s.find(".lora_");
    if (cut != std::string::npos) s.resize(cut);
    strip_suffix(s, ".weight");
    if (starts_with(s, "base_model.model.")) s = s.substr(17);
    // transformers-5 module paths -> published checkpoint paths
    if (starts_with(s, "model.language_model.")) s = "model." + s.substr(21);
    else if (starts_with(s, "model.visual.")) s = s.substr(6);
    else if (starts_with(s, "language_model.")) s = "model." + s.substr(15);
    return s;
}

std::string peft_key(const std::string& module, char which) {
    return "base_model.model." + module + (which == 'A' ? ".lora_A.weight" : ".lora_B.weight");
}

Status save_peft_adapter(const std::string& dir, const std::vector<LoraPair>& lora, const LoraSpec& spec,
                         bool bf16) {
    try {
        fs::create_directories(dir);
        std::vector<torch::Tensor> keep;  // contiguous CPU copies that back the write
        std::vector<TensorToWrite> out;
        std::vector<std::pair<std::string, const LoraPair*>> order;
        for (const auto& p : lora) order.emplace_back(p.module, &p);
        std::sort(order.begin(), order.end(), [](auto& x, auto& y) { return x.first < y.first; });
        for (const auto& [module, p] : order) {
            for (char which : {'A', 'B'}) {
                auto t = (which == 'A' ? p->a : p->b).detach().to(torch::kCPU);
                t = (bf16 ? t.to(torch::kBFloat16) : t.to(torch::kFloat32)).contiguous();
                keep.push_back(t);
                out.push_back({peft_key(module, which), bf16 ? DType::BF16 : DType::F32,
                               std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr()});
            }
        }
        MATRIX_CHECK(write_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), out,
                                       {{"format", "pt"}}));
        std::set<std::string> targets(spec.targets.begin(), spec.targets.end());
        json cfg = {{"peft_type", "LORA"},
                    {"task_type", "CAUSAL_LM"},
                    {"base_model_name_or_path", spec.base_model},
                    {"revision", nullptr},
                    {"r", spec.r},
                    {"lora_alpha", spec.alpha},
                    {"lora_dropout", spec.dropout},
                    {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
                    {"bias", "none"},
                    {"fan_in_fan_out", false},
                    {"inference_mode", true},
                    {"init_lora_weights", true},
                    {"modules_to_save", nullptr},
                    {"layers_to_transform", nullptr},
                    {"layers_pattern", nullptr},
                    {"rank_pattern", json::object()},
                    {"alpha_pattern", json::object()},
                    {"use_rslora", spec.use_rslora},
                    {"use_dora", false}};
        // PEFT writes integral alpha as an int; keep that so the file diffs cleanly against PEFT's.
        if (spec.alpha == static_cast<double>(static_cast<int64_t>(spec.alpha)))
            cfg["lora_alpha"] = static_cast<int64_t>(spec.alpha);
        return write_json_atomic((fs::path(dir) / "adapter_config.json").string(), cfg);
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "saving adapter to " + dir);
    }
}

Result<std::vector<LoraPair>> read_peft_adapter(const std::string& path, LoraSpec* spec, const LoraSpec* fallback) {
    const std::string ctx = "reading adapter " + path;
    try {
        std::string weights_path, config_path;
        if (fs::is_directory(path)) {
            weights_path = (fs::path(path) / "adapter_model.safetensors").string();
            config_path = (fs::path(path) / "adapter_config.json").string();
        } else {
            weights_path = path;
            const fs::path sibling = fs::path(path).parent_path() / "adapter_config.json";
            config_path = fs::exists(sibling) ? sibling.string() : fs::path(path).replace_extension(".json").string();
        }
        LoraSpec s;
        if (fs::exists(config_path)) {
            MATRIX_TRY(std::string text, read_regular_file(config_path, k_max_adapter_config_bytes));
            MATRIX_TRY(PeftAdapterConfig cfg, parse_peft_adapter_config(text, config_path));
            s.r = cfg.r;
            s.alpha = cfg.lora_alpha;
            s.dropout = cfg.lora_dropout;
            s.use_rslora = cfg.use_rslora;
            if (!cfg.target_modules.empty()) s.targets = cfg.target_modules;
            s.base_model = cfg.base_model_name_or_path;
        } else if (fallback) {
            s = *fallback;
        } else {
            return make_error("adapter_config.json not found", ctx);
        }
        if (spec) *spec = s;

        MATRIX_TRY(auto file, SafetensorsFile::open(weights_path));
        std::map<std::string, LoraPair> by_module;
        for (const auto& v : file->tensors()) {
            char kind = lora_matrix_kind(v.name);
            if (!kind) return make_error("unexpected tensor '" + v.name + "'", ctx);
            MATRIX_TRY(auto view, model::view_tensor(v));
            auto t = view.to(torch::kFloat32).clone();
            auto& p = by_module[lora_module_path(v.name)];
            p.module = lora_module_path(v.name);
            (kind == 'A' ? p.a : p.b) = t;
        }
        std::vector<LoraPair> out;
        for (auto& [m, p] : by_module) {
            if (!p.a.defined() || !p.b.defined()) return make_error("module " + m + " lacks lora_A or lora_B", ctx);
            if (p.a.size(0) != s.r || p.b.size(1) != s.r)
                return make_error("module " + m + " has rank " + std::to_string(p.a.size(0)) + ", config r=" +
                                      std::to_string(s.r), ctx);
            out.push_back(std::move(p));
        }
        return out;
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), ctx);
    }
}

std::vector<LoraPair> lora_pairs(torch::nn::Module& model) {
    std::map<std::string, LoraPair> by;
    for (auto& [name, t] : model::lora_parameters(model)) {
        auto& p = by[lora_module_path(name)];
        p.module = lora_module_path(name);
        (lora_matrix_kind(name) == 'A' ? p.a : p.b) = t;
    }
    std::vector<LoraPair> out;
    for (auto& [m, p] : by) out.push_back(p);
    return out;
}

Result<LoraSpec> load_peft_adapter(torch::nn::Module& model, const std::string& path, const LoraSpec* fallback) {
    LoraSpec spec;
    MATRIX_TRY(auto lora, read_peft_adapter(path, &spec, fallback));
    if (lora.empty()) return make_error("adapter holds no LoRA tensors", path);
    std::map<std::string, model::LinearImpl*> linears;
    for (auto& item : model.named_modules("", false))
        if (auto* lin = dynamic_cast<model::LinearImpl*>(item.value().get())) linears[item.key()] = lin;
    try {
        torch::NoGradGuard ng;
        for (const auto& p : lora) {
            auto it = linears.find(p.module);
            if (it == linears.end())
                return make_error("adapter targets " + p.module + ", which is not a linear layer of the model", path);
            model::LinearImpl* lin = it->second;
            if (p.a.size(1) != lin->in_features || p.b.size(0) != lin->out_features)
                return make_error("LoRA shapes of " + p.module + " do not match the layer (" +
                                      std::to_string(lin->out_features) + " x " + std::to_string(lin->in_features) + ")",
                                  path);
            lin->add_lora(spec.r, spec.alpha, spec.dropout, spec.use_rslora);
            lin->lora_A->weight.copy_(p.a);
            lin->lora_B->weight.copy_(p.b);
        }
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "loading adapter " + path);
    }
    return spec;
}

Status merge_adapter_into_checkpoint(const std::string& base_dir, const std::string& adapter_dir,
                                     const std::string& out_dir, const Progress& progress) {
    const std::string ctx = "merging " + adapter_dir + " into " + base_dir;
    try {
        LoraSpec spec;
        MATRIX_TRY(auto lora, read_peft_adapter(adapter_dir, &spec));
        const double scale = spec.use_rslora ? spec.alpha / std::sqrt(static_cast<double>(spec.r)) : spec.alpha / spec.r;
        std::map<std::string, const LoraPair*> by_module;
        for (const auto& p : lora) by_module[p.module] = &p;

        // Shards: from the index, else the single file.
        std::vector<std::string> shards;
        fs::path index = fs::path(base_dir) / "model.safetensors.index.json";
        if (fs::exists(index)) {
            auto parsed = read_json_file(index.string());
            if (!parsed.ok()) return parsed.error();
            json j = std::move(parsed).value();
            std::set<std::string> names;
            for (auto& [k, v] : j.at("weight_map").items()) names.insert(v.get<std::string>());
            shards.assign(names.begin(), names.end());
        } else {
            shards.push_back("model.safetensors");
        }
        fs::create_directories(out_dir);
        std::set<std::string> merged;
        int64_t done = 0;
        for (const auto& shard : shards) {
            if (progress.cancelled()) return make_error("cancelled", ctx);
            MATRIX_TRY(auto file, SafetensorsFile::open((fs::path(base_dir) / shard).string()));
            std::vector<torch::Tensor> keep;
            std::vector<TensorToWrite> out;
            for (const auto& v : file->tensors()) {
                TensorToWrite w{v.name, v.dtype, v.shape, v.data};
                std::string name = v.name;
                strip_suffix(name, ".weight");
                auto it = by_module.find(lora_module_path(name));
                if (it != by_module.end() && v.name.size() > 7 &&
                    v.name.compare(v.name.size() - 7, 7, ".weight") == 0) {
                    const LoraPair& p = *it->second;
                    MATRIX_TRY(auto view, model::view_tensor(v));
                    auto w0 = view.to(torch::kFloat32);
                    auto delta = model::lora_delta(p.a, p.b, scale);  // [out, in]
                    if (delta.sizes() != w0.sizes())
                        return make_error("shape mismatch for " + v.name, ctx);
                    auto merged_w = (w0 + delta).to(view.scalar_type()).contiguous();
                    keep.push_back(merged_w);
                    w.data = merged_w.data_ptr();
                    merged.insert(it->first);
                }
                out.push_back(w);
            }
            MATRIX_CHECK(write_safetensors((fs::path(out_dir) / shard).string(), out, file->metadata()));
            progress(++done, static_cast<int64_t>(shards.size()), shard);
        }
        if (merged.size() != by_module.size()) {
            for (const auto& [m, p] : by_module)
                if (!merged.count(m)) return make_error("adapter module " + m + " not found in the base weights", ctx);
        }
        // Everything else (config.json, generation_config.json, tokenizer files, index) is copied as is.
        for (const auto& e : fs::directory_iterator(base_dir)) {
            if (!e.is_regular_file()) continue;
            std::string fname = e.path().filename().string();
            if (e.path().extension() == ".safetensors") continue;
            fs::copy_file(e.path(), fs::path(out_dir) / fname, fs::copy_options::overwrite_existing);
        }
        return {};
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), ctx);
    }
}

}  // namespace matrix::train
