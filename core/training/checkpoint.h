// Training checkpoints: everything a run needs to continue exactly where it stopped, written atomically
// (a `checkpoint-<step>.tmp` directory renamed into place), so a kill at any moment leaves either the old or
// the new checkpoint, never a half one. Contents: the trainable tensors by name (float32), the AdamW state,
// the scheduler step, the CPU RNG state, the data-order position (epoch, micro-batch index), and the run's
// metric history; plus `adapter/`, a PEFT adapter of the LoRA at that step, usable on its own.
// Also small safetensors helpers for named torch tensors (used for stored reference log-probs too).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/training/adapter_io.h"
#include "core/training/optimizer.h"
#include "core/util/result.h"

namespace matrix::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Atomic write of named tensors (CPU copies, original dtype) / read back as CPU tensors (copied).
Status save_tensors(const std::string& path, const NamedTensors& tensors,
                    const std::map<std::string, std::string>& metadata = {});
Result<NamedTensors> load_tensors(const std::string& path);

struct TrainerState {
    int64_t step = 0;         // optimiser steps done
    int64_t epoch = 0;        // epoch in progress (0-based)
    int64_t micro = 0;        // micro-batches of that epoch already consumed
    int64_t total_steps = 0;  // schedule length
    int64_t tokens = 0;       // trained tokens so far
    double seconds = 0;       // training wall time so far
    nlohmann::json history = nlohmann::json::array();  // [{step, loss, lr, ...}] metric records
    nlohmann::json config;    // TrainingConfig::to_json() of the run

    nlohmann::json to_json() const;
    static TrainerState from_json(const nlohmann::json& j);
};

// Writes run_dir/checkpoint-<state.step>/ atomically and prunes older checkpoints beyond `keep`.
// Returns the checkpoint directory.
Result<std::string> write_checkpoint(const std::string& run_dir, const std::vector<NamedParam>& trainable,
                                     const std::vector<LoraPair>& lora, const LoraSpec& spec,
                                     const Optimizer& optimizer, const TrainerState& state, int keep);

// Restores tensors (by name, into `trainable`), optimiser, RNG; returns the state.
Result<TrainerState> read_checkpoint(const std::string& ckpt_dir, const std::vector<NamedParam>& trainable,
                                     Optimizer* optimizer);

// The newest complete checkpoint directory in run_dir ("" when none).
std::string latest_checkpoint(const std::string& run_dir);
// Every complete checkpoint directory, newest first (resume falls back to an older one when the newest is damaged).
std::vector<std::string> checkpoints_newest_first(const std::string& run_dir);

}  // namespace matrix::train
