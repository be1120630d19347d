// TrainingConfig <-> JSON and `key=value` overrides, driven by one key list (MATRIX_TRAIN_KEYS) so that the
// JSON names, the CLI `--set` names and the GUI form cannot drift apart.
#include "core/training/training_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/util/error_text.h"


namespace matrix::train {

using nlohmann::json;

// X(member, kind, group, dpo_only, choices, help)
#define MATRIX_TRAIN_KEYS(X)                                                                                   \
    X(epochs, Int, "Schedule", false, {}, "passes over the training samples")                                  \
    X(max_steps, Int, "Schedule", false, {}, "optimiser steps to run; overrides epochs as in HF (0 = epochs decide)")          \
    X(lr, Float, "Schedule", false, {}, "peak learning rate")                                                  \
    X(scheduler, Choice, "Schedule", false, ({"cosine", "linear", "constant"}), "decay after warmup")          \
    X(warmup_ratio, Float, "Schedule", false, {}, "share of steps with linear warmup")                         \
    X(weight_decay, Float, "Schedule", false, {}, "AdamW decoupled weight decay")                              \
    X(adam_beta1, Float, "Schedule", false, {}, "AdamW beta1")                                                 \
    X(adam_beta2, Float, "Schedule", false, {}, "AdamW beta2")                                                 \
    X(adam_eps, Float, "Schedule", false, {}, "AdamW epsilon")                                                 \
    X(batch_size, Int, "Schedule", false, {}, "samples (SFT) or pairs (DPO) per micro-batch")                  \
    X(grad_accum, Int, "Schedule", false, {}, "micro-batches per optimiser step")                              \
    X(grad_clip, Float, "Schedule", false, {}, "max global gradient norm (0 = off)")                           \
    X(max_length, Int, "Data", false, {}, "max tokens per sample")                                             \
    X(overlong, Choice, "Data", false, ({"drop", "truncate_history"}), "policy for samples over max_length")   \
    X(packing, Bool, "Data", false, {}, "SFT: a micro-batch's samples end to end, no padding (same loss as padded)") \
    X(lora_r, Int, "LoRA", false, {}, "LoRA rank")                                                             \
    X(lora_alpha, Float, "LoRA", false, {}, "LoRA alpha (scaling = alpha / r)")                                \
    X(lora_dropout, Float, "LoRA", false, {}, "dropout on the LoRA input")                                     \
    X(lora_targets, List, "LoRA", false, {}, "LM layers that get LoRA (comma-separated; lm_head allowed)")   \
    X(train_vision, Bool, "LoRA", false, {}, "also train the vision tower (frozen by default)")                \
    X(beta, Float, "DPO", true, {}, "DPO temperature beta")                                                    \
    X(loss, Choice, "DPO", true, ({"sigmoid", "ipo", "hinge"}), "preference loss")                             \
    X(sft_weight, Float, "DPO", true, {}, "weight of an SFT term on the chosen action (0 = off)")              \
    X(precompute_reference, Bool, "DPO", true, {}, "compute reference log-probs once before training")         \
    X(share_context, Bool, "DPO", true, {}, "context forwarded once; chosen and rejected attend to its keys/values")                      \
    X(verdict_filter, Choice, "Data", false, ({"yes", "not_no", "all"}), "SFT trajectories by verifier verdict") \
    X(pairs, Choice, "Data", true, ({"approved", "all"}), "DPO pairs by review status")                        \
    X(eval_fraction, Float, "Data", false, {}, "share of samples held out for evaluation")                     \
    X(seed, Int, "Run", false, {}, "random seed (data order, LoRA init, dropout)")                             \
    X(device, String, "Run", false, {}, "cpu, cuda or cuda:N")                                                 \
    X(dtype, Choice, "Run", false, ({"auto", "f32", "bf16"}), "auto = bf16 autocast on CUDA, f32 on CPU")      \
    X(grad_checkpointing, Bool, "Run", false, {}, "recompute activations in backward to save memory")          \
    X(save_every, Int, "Run", false, {}, "steps between checkpoints (0 = each epoch)")                          \
    X(eval_every, Int, "Run", false, {}, "steps between evaluations (0 = each epoch)")                         \
    X(log_every, Int, "Run", false, {}, "steps between metric records")                                        \
    X(keep_checkpoints, Int, "Run", false, {}, "most recent checkpoints kept")

const char* stage_name(Stage s) { return s == Stage::Sft ? "sft" : "dpo"; }

Result<Stage> parse_stage(const std::string& s) {
    if (s == "sft") return Stage::Sft;
    if (s == "dpo") return Stage::Dpo;
    return make_error("unknown stage '" + s + "' (expected sft or dpo)");
}

const std::vector<ConfigField>& config_fields() {
    static const std::vector<ConfigField> fields = [] {
        std::vector<ConfigField> f;
#define X(member, kind, group, dpo_only, choices, help) \
    f.push_back(ConfigField{#member, ConfigKind::kind, group, help, std::vector<std::string> choices, dpo_only});
        MATRIX_TRAIN_KEYS(X)
#undef X
        return f;
    }();
    return fields;
}

json TrainingConfig::to_json() const {
    json j = json::object();
#define X(member, kind, group, dpo_only, choices, help) j[#member] = member;
    MATRIX_TRAIN_KEYS(X)
#undef X
    return j;
}

namespace {

const ConfigField* find_field(const std::string& key) {
    for (const auto& f : config_fields())
        if (f.key == key) return &f;
    return nullptr;
}

// Checks one JSON value against the key's kind; integers are accepted for Float keys.
Status check_kind(const ConfigField& f, const json& v) {
    bool ok = false;
    switch (f.kind) {
    case ConfigKind::Int: ok = v.is_number_integer(); break;
    case ConfigKind::Float: ok = v.is_number(); break;
    case ConfigKind::Bool: ok = v.is_boolean(); break;
    case ConfigKind::String: ok = v.is_string(); break;
    case ConfigKind::Choice:
        if (!v.is_string()) break;
        for (const auto& c : f.choices)
            if (c == v.get<std::string>()) ok = true;
        if (!ok) {
            std::string all;
            for (const auto& c : f.choices) all += (all.empty() ? "" : "|") + c;
            return make_error("'" + v.get<std::string>() + "' is not one of " + all, "config key " + f.key);
        }
        break;
    case ConfigKind::List:
        ok = v.is_array();
        if (ok)
            for (const auto& e : v) ok = ok && e.is_string();
        break;
    }
    if (!ok) return make_error("wrong type (" + std::string(v.type_name()) + ")", "config key " + f.key);
    return {};
}

}  // namespace

Result<TrainingConfig> TrainingConfig::from_json(const json& j) {
    if (!j.is_object()) return make_error("training config must be a JSON object");
    TrainingConfig c;
    for (auto it = j.begin(); it != j.end(); ++it) {
        const ConfigField* f = find_field(it.key());
        if (!f) return make_error("unknown training config key '" + it.key() + "'");
        MATRIX_CHECK(check_kind(*f, it.value()));
    }
    try {
#define X(member, kind, group, dpo_only, choices, help) \
    if (j.contains(#member)) j.at(#member).get_to(c.member);
        MATRIX_TRAIN_KEYS(X)
#undef X
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "reading training config");
    }
    MATRIX_CHECK(c.validate());
    return c;
}

Status TrainingConfig::set(const std::string& key_equals_value) {
    auto eq = key_equals_value.find('=');
    if (eq == std::string::npos || eq == 0)
        return make_error("expected key=value, got '" + key_equals_value + "'");
    return set(key_equals_value.substr(0, eq), key_equals_value.substr(eq + 1));
}

Status TrainingConfig::set(const std::string& key, const std::string& value) {
    const ConfigField* f = find_field(key);
    if (!f) return make_error("unknown training config key '" + key + "'");
    json v;
    std::string ctx = "config key " + key;
    try {
        size_t used = 0;
        switch (f->kind) {
        case ConfigKind::Int:
            v = std::stoll(value, &used);
            if (used != value.size()) return make_error("'" + value + "' is not an integer", ctx);
            break;
        case ConfigKind::Float:
            v = std::stod(value, &used);
            if (used != value.size()) return make_error("'" + value + "' is not a number", ctx);
            break;
        case ConfigKind::Bool:
            if (value == "true" || value == "1" || value == "yes" || value == "on") v = true;
            else if (value == "false" || value == "0" || value == "no" || value == "off") v = false;
            else return make_error("'" + value + "' is not a boolean", ctx);
            break;
        case ConfigKind::String:
        case ConfigKind::Choice: v = value; break;
        case ConfigKind::List: {
            v = json::array();
            std::stringstream ss(value);
            std::string item;
            while (std::getline(ss, item, ','))
                if (!item.empty()) v.push_back(item);
            break;
        }
        }
    } catch (const std::exception&) {
        return make_error("'" + value + "' is not a valid value", ctx);
    }
    json j = to_json();
    j[key] = v;
    auto r = from_json(j);
    if (!r.ok()) return r.error();
    *this = std::move(r).value();
    return {};
}

Status TrainingConfig::validate() const {
    auto bad = [](const std::string& key, const std::string& why) {
        return make_error(why, "config key " + key);
    };
    if (epochs < 1) return bad("epochs", "must be >= 1");
    if (max_steps < 0) return bad("max_steps", "must be >= 0");
    if (!(lr > 0) || !std::isfinite(lr)) return bad("lr", "must be > 0");
    if (warmup_ratio < 0 || warmup_ratio >= 1) return bad("warmup_ratio", "must be in [0, 1)");
    if (weight_decay < 0) return bad("weight_decay", "must be >= 0");
    if (batch_size < 1) return bad("batch_size", "must be >= 1");
    if (grad_accum < 1) return bad("grad_accum", "must be >= 1");
    if (grad_clip < 0) return bad("grad_clip", "must be >= 0");
    if (max_length < 16) return bad("max_length", "must be >= 16");
    if (lora_r < 1) return bad("lora_r", "must be >= 1");
    if (!(lora_alpha > 0)) return bad("lora_alpha", "must be > 0");
    if (lora_dropout < 0 || lora_dropout >= 1) return bad("lora_dropout", "must be in [0, 1)");
    if (lora_targets.empty() && !train_vision) return bad("lora_targets", "must name at least one module");
    if (!(beta > 0)) return bad("beta", "must be > 0");
    if (sft_weight < 0) return bad("sft_weight", "must be >= 0");
    if (eval_fraction < 0 || eval_fraction >= 1) return bad("eval_fraction", "must be in [0, 1)");
    if (save_every < 0 || eval_every < 0) return bad("save_every", "must be >= 0");
    if (log_every < 1) return bad("log_every", "must be >= 1");
    if (keep_checkpoints < 1) return bad("keep_checkpoints", "must be >= 1");
    if (device != "cpu" && device != "cuda" && device.rfind("cuda:", 0) != 0)
        return bad("device", "must be cpu, cuda or cuda:N");
    return {};
}

Result<TrainingConfig> load_training_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return make_error("cannot open", path);
    json j;
    try {
        in >> j;
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), path);
    }
    auto r = TrainingConfig::from_json(j);
    if (!r.ok()) return r.error().within(path);
    return r;
}

Status save_training_config(const TrainingConfig& c, const std::string& path) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out) return make_error("cannot write", tmp);
        out << c.to_json().dump(2) << "\n";
        if (!out) return make_error("write failed", tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) return make_error("rename failed", path);
    return {};
}

}  // namespace matrix::train
