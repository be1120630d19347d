// The training run: SFT on a dataset's trajectories or step-wise DPO on its pairs, with LoRA on Qwen2-VL.
// One loop for both stages, read top to bottom: build model + LoRA + data -> loop {batch, forward, loss,
// backward, step, log, eval every N, checkpoint every M} -> save adapter; only the loss differs.
// A run is a row in the project store (config, dataset snapshot by id + content hash, status, timings, metric
// series, checkpoints, log, error); its files live in out_dir (checkpoints/, the final PEFT adapter).
// Threading: run_training blocks; call it on a worker thread (GUI) or in the foreground (CLI). It opens its own
// store connection. Cancel and pause are atomics the caller may set from any thread; callbacks run on the
// training thread. Started with the torchrun environment (WORLD_SIZE > 1, distributed.h), run_training joins the
// process group as that rank; only rank 0 writes the store row, checkpoints and the adapter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/training/training_config.h"
#include "core/util/result.h"

namespace matrix::train {

struct TrainRequest {
    Stage stage = Stage::Sft;
    std::string db_path;        // the project file
    std::string dataset;        // dataset name in the store
    std::string model_dir;      // base checkpoint directory (config.json, safetensors, tokenizer.json)
    std::string adapter_dir;    // optional starting adapter: SFT continues it; DPO merges it into the base
                                // (policy start and frozen reference = base + SFT adapter)
    std::string out_dir;        // the final adapter goes here; checkpoints under out_dir/checkpoints
    TrainingConfig config;
    std::string run_name;
    std::optional<int64_t> resume_run;  // continue this run from its latest checkpoint (config from the run)
    int extra_epochs = 0;               // with resume_run: train N more epochs than the run had
};

struct StepReport {
    int64_t run_id = 0;
    int64_t step = 0, total_steps = 0;
    int64_t epoch = 0;
    bool eval = false;          // an evaluation record (metrics are eval_*)
    double loss = 0, lr = 0, grad_norm = 0;
    double tokens_per_s = 0, samples_per_s = 0;  // samples = trajectories (SFT) or pairs (DPO)
    double elapsed_s = 0, eta_s = 0;
    std::map<std::string, double> metrics;  // DPO: rewards/chosen, rewards/rejected, rewards/margin, rewards/accuracy
};

struct TrainCallbacks {
    std::function<void(const StepReport&)> on_step;
    std::function<void(const std::string&)> on_log;  // one human-readable line
    const std::atomic<bool>* cancel = nullptr;       // stop now; earlier checkpoints stay
    const std::atomic<bool>* pause = nullptr;        // checkpoint, mark paused, return (resume later)
    // Test hook: stop as if killed right after this optimiser step (no checkpoint, status stays running).
    int64_t simulate_kill_after_step = 0;
};

struct TrainOutcome {
    int64_t run_id = 0;
    std::string status;        // finished | paused | cancelled | killed (test hook)
    std::string adapter_dir;   // final adapter (finished) or "" 
    int64_t steps = 0;
    std::vector<double> step_losses;  // training loss per optimiser step of the whole run (incl. before resume)
    std::map<std::string, double> last_metrics;
    double seconds = 0;
    int64_t tokens = 0;
    int64_t samples = 0;       // usable training samples
};

// Runs (or resumes) a training run. On failure the run row is marked failed with the error, the error is
// logged, earlier checkpoints are kept, and the Error is returned.
Result<TrainOutcome> run_training(const TrainRequest& request, const TrainCallbacks& callbacks = {});

// Checks a base model directory for the GUI/CLI: architecture, parameter count, dtype, shapes.
struct ModelInfo {
    std::string architecture;   // "Qwen2VLForConditionalGeneration"
    std::string dtype;          // of the weights on disk
    int64_t n_params = 0;
    int64_t hidden_size = 0, n_layers = 0, vocab_size = 0;
    bool has_tokenizer = false;
    std::string summary() const;  // "Qwen2VLForConditionalGeneration, 8.29B params, BF16, 28 layers"
};
Result<ModelInfo> inspect_model_dir(const std::string& model_dir);

// "cpu" and "cuda:N" for every visible GPU (for the GUI's device choice).
std::vector<std::string> available_devices();

}  // namespace matrix::train
