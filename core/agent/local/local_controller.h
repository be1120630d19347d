// The local controller: the LibTorch Qwen2-VL engine (+ an optional PEFT adapter) writes the agent's actions.
// The prompt is rendered with the Qwen2-VL chat template (the task's images preprocessed as HF does); every
// sampling group is generated as n candidates sharing the prompt's KV cache (core/model/generation), stopped at
// the stop strings. Seeds: call k of a run uses seed + k, so a run is reproducible and its steps differ (with
// GenerationSettings::exact_seed the given seed, for callers that derive one per task and step).
// Compiled into matrix_engine (LibTorch). Thread safety: generate() and the lent tool engine may be called from
// any thread; calls are served one at a time.
#pragma once

#include <memory>
#include <string>

#include "core/agent/controller.h"

namespace matrix::agent {

struct LocalControllerOptions {
    std::string model_dir;
    std::string adapter_dir;       // "" = base model
    std::string dtype = "f32";     // f32 | bf16 | f16
    std::string device = "cpu";    // cpu | cuda[:N]
    int64_t min_pixels = -1, max_pixels = -1;  // -1: the checkpoint's preprocessor_config.json
};

class LocalController : public Controller {
public:
    static Result<std::unique_ptr<LocalController>> load(const LocalControllerOptions& options);
    ~LocalController() override;
    std::string describe() const override;
    Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                            const GenerationSettings& settings,
                                            const std::atomic<bool>* cancel = nullptr) override;
    // Greedy answers from the same model (box format "qwen2vl"), queued with generate() on one mutex.
    VlmEngine tool_engine() override;

private:
    Result<std::vector<Candidate>> generate_locked(const std::vector<tok::ChatMessage>& messages,
                                                   const GenerationSettings& settings, const std::atomic<bool>* cancel);
    struct Impl;
    explicit LocalController(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

}  // namespace matrix::agent
