// The optimisation step of a run: AdamW (decoupled weight decay; biases and norm weights in a no-decay group as in
// HF Trainer; the moments live in torch::optim::AdamW's state, the update runs as multi-tensor _foreach_ ops so a
// LoRA run's ~400 parameters take a handful of kernel launches on a GPU, not thousands), the learning-rate schedule (linear warmup, then cosine / linear /
// constant, as HF's get_*_schedule_with_warmup), gradient accumulation bookkeeping and global-norm clipping.
// Also: seeding and saving/restoring the CPU RNG so a resumed run draws the same dropout masks.
// Thread-compatible: one Optimizer per run, used from the run's worker thread.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/training/training_config.h"
#include "core/util/result.h"

namespace matrix::train {

// Learning-rate factor in [0, 1] at optimiser step `step` (0-based, the step about to be taken).
// warmup_steps = ceil(total * warmup_ratio) (HF TrainingArguments.get_warmup_steps).
double lr_factor(const std::string& scheduler, int64_t step, int64_t total_steps, double warmup_ratio);
int64_t warmup_steps(int64_t total_steps, double warmup_ratio);

struct NamedParam {
    std::string name;
    torch::Tensor tensor;
};

// What a LoRA run trains, set up the same way by the trainer and bench_train: every base weight frozen, the LoRA
// matrices in float32 (master weights, also under a bf16 model) in module order with PEFT's names.
std::vector<NamedParam> lora_trainable_params(torch::nn::Module& model);

class Optimizer {
public:
    // `params`: the trainable parameters in a fixed order (the order is the identity used by save/load).
    Optimizer(const std::vector<NamedParam>& params, const TrainingConfig& config, int64_t total_steps);

    // Sets the scheduled lr, clips, steps, zeroes grads and advances the step counter.
    // Returns the global grad norm before clipping (NaN/inf is reported, the step is then skipped).
    double step();
    void zero_grad();

    int64_t step_count() const { return m_step; }
    void set_step_count(int64_t s) { m_step = s; }
    int64_t total_steps() const { return m_total; }
    void set_total_steps(int64_t t) { m_total = t; }
    double current_lr() const;  // lr the next step() will use

    // The AdamW update alone (no lr schedule, clipping or zeroing): multi-tensor by default, or torch::optim::AdamW's
    // own per-parameter loop (the reference the multi-tensor form is tested against).
    void adamw_update(bool per_parameter = false);

    // AdamW moments and step counts, via torch's archive format (same file on LibTorch 1.13 and 2.x).
    Status save(const std::string& path) const;
    Status load(const std::string& path);

private:
    std::unique_ptr<torch::optim::AdamW> m_adam;
    std::vector<torch::Tensor> m_params;
    TrainingConfig m_config;
    int64_t m_step = 0;
    int64_t m_total = 1;
};

// Global seeding (torch CPU + CUDA generators).
void seed_everything(int64_t seed);
// The CPU default generator's state (a byte tensor) to store in a checkpoint, and back.
torch::Tensor cpu_rng_state();
void set_cpu_rng_state(const torch::Tensor& state);

}  // namespace matrix::train
