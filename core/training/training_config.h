// TrainingConfig: every hyperparameter of an SFT or DPO run, with MATRIX's defaults (spec section 6).
// The CLI (`--config F.json`, `--set key=value`) and the GUI form share this one struct and its key table,
// so both show the same keys and defaults; unknown keys are an error that names the key.
// No torch in this header: the GUI includes it to build its form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace matrix::train {

enum class Stage { Sft, Dpo };
const char* stage_name(Stage s);  // "sft" / "dpo"
Result<Stage> parse_stage(const std::string& s);

struct TrainingConfig {
    // Schedule and optimiser (AdamW, warmup + cosine as in MATRIX's LLaMA-Factory recipe).
    int epochs = 3;
    int64_t max_steps = 0;         // optimiser steps; > 0 overrides epochs (HF Trainer semantics); 0 = epochs
    double lr = 1e-5;
    std::string scheduler = "cosine";  // cosine | linear | constant
    double warmup_ratio = 0.01;
    double weight_decay = 0.1;
    double adam_beta1 = 0.9;
    double adam_beta2 = 0.999;
    double adam_eps = 1e-8;
    int batch_size = 1;            // samples (SFT) or pairs (DPO) per micro-batch
    int grad_accum = 1;            // micro-batches per optimiser step
    double grad_clip = 1.0;        // max global grad norm; 0 = off
    int64_t max_length = 10240;    // tokens per sample (SFT) or per context + action (DPO)
    std::string overlong = "drop"; // drop | truncate_history: what to do with samples over max_length

    // LoRA (PEFT semantics: scaling = alpha / r).
    int lora_r = 128;
    double lora_alpha = 16;
    double lora_dropout = 0.05;
    std::vector<std::string> lora_targets{"q_proj", "k_proj", "v_proj", "o_proj"};
    bool train_vision = false;     // the vision tower stays frozen by default

    // DPO.
    double beta = 0.1;
    std::string loss = "sigmoid";  // sigmoid | ipo | hinge
    double sft_weight = 0.0;       // weight of an extra SFT (NLL) term on the chosen action; 0 = off
    bool precompute_reference = true;  // reference log-probs computed once before training and stored
    bool share_context = true;     // context forwarded once, actions against its keys/values (shared_context.h);
                                   // false: one batched forward of [context + chosen, context + rejected]

    // Data.
    std::string verdict_filter = "yes";  // yes | not_no | all: which SFT trajectories (verifier verdict)
    std::string pairs = "approved";      // approved | all: which DPO pairs
    double eval_fraction = 0.0;    // share of samples held out for evaluation (by seed)

    // Run.
    int64_t seed = 42;
    std::string device = "cpu";    // cpu | cuda | cuda:N
    std::string dtype = "auto";    // auto (bf16 autocast on CUDA, f32 on CPU) | f32 | bf16
    bool grad_checkpointing = false;
    bool packing = false;          // SFT: a micro-batch's samples laid end to end in one row without padding, each
                                   // attending only to itself (ForwardInput::segments): the padded batch's loss
                                   // without computing its padding. Off by default, as in HF and LLaMA-Factory.
    int64_t save_every = 0;        // optimiser steps between checkpoints; 0 = at the end of each epoch
    int64_t eval_every = 0;        // optimiser steps between evaluations; 0 = at the end of each epoch
    int64_t log_every = 1;         // optimiser steps between metric records
    int keep_checkpoints = 2;      // most recent checkpoints kept; older ones are deleted

    nlohmann::json to_json() const;
    // Strict: every key must be known and of the right type; missing keys keep their defaults.
    static Result<TrainingConfig> from_json(const nlohmann::json& j);
    // Applies "key=value" (value parsed by the key's type; lists as "a,b,c"). Unknown key -> error.
    Status set(const std::string& key_equals_value);
    Status set(const std::string& key, const std::string& value);
    Status validate() const;
};

Result<TrainingConfig> load_training_config(const std::string& path);
Status save_training_config(const TrainingConfig& c, const std::string& path);

// The key table for forms and help: one entry per key in display order.
enum class ConfigKind { Int, Float, Bool, String, Choice, List };
struct ConfigField {
    std::string key;
    ConfigKind kind;
    std::string group;   // "Schedule", "LoRA", "DPO", "Data", "Run"
    std::string help;    // one line
    std::vector<std::string> choices;  // for Choice
    bool dpo_only = false;
};
const std::vector<ConfigField>& config_fields();

}  // namespace matrix::train
