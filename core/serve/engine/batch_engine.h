// The generation engine behind `matrix serve`: continuous batching of chat completions over Qwen2-VL models that
// share one tokenizer (the base model and LoRA adapters on it). One engine thread loops: admit waiting jobs while
// the batch has room (each is prefilled on its own, its n candidates then share the prompt's cache), merge them
// into the running batch of their model (core/serve/engine/batch_kv.h), decode one token for every row of every
// batch, stream each token's text to its job's channel, drop finished and cancelled rows. A job joins and leaves
// between two decode steps, so a long answer never holds back a short one.
// Token choice per row equals core/model/generation.cpp (greedy argmax; repetition penalty, temperature, top-k,
// top-p, seeded multinomial on a CPU generator per job, candidates drawn in order), so one job alone decodes
// exactly as `matrix generate`.
// Thread safety: submit() and stats() from any thread; the models are used by the engine thread only.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/model/qwen2vl.h"
#include "core/serve/engine/job.h"
#include "core/tokenizer/tokenizer.h"

namespace matrix::serve {

struct EngineOptions {
    int64_t max_batch = 32;         // rows decoded together (a job with n candidates takes n rows)
    int64_t capacity_step = 128;    // KV columns added when a batch's cache is full
    std::vector<int64_t> eos_token_ids;  // empty: the first model's config
};

struct EngineStats {
    int64_t jobs_submitted = 0, jobs_completed = 0, jobs_cancelled = 0, jobs_failed = 0;
    int64_t jobs_waiting = 0, jobs_running = 0, rows_running = 0;
    int64_t tokens_generated = 0, prompt_tokens = 0, decode_steps = 0, max_rows_seen = 0;
};

class BatchEngine {
public:
    BatchEngine(std::vector<model::Qwen2VL> models, tok::Tokenizer tokenizer, EngineOptions options);
    ~BatchEngine();  // stops the engine thread; jobs still running get an error event
    BatchEngine(const BatchEngine&) = delete;
    BatchEngine& operator=(const BatchEngine&) = delete;

    // Queues a job; its events arrive on job->channel. A job whose channel is cancelled is dropped at the next step.
    void submit(std::shared_ptr<GenerationJob> job);
    EngineStats stats() const;
    const tok::Tokenizer& tokenizer() const { return m_tokenizer; }
    const model::Qwen2VLConfig& config() const { return m_models.at(0)->cfg; }
    size_t model_count() const { return m_models.size(); }

    struct Running;  // engine-thread state of one admitted job
    struct Lane;     // the running batch of one model

private:
    void loop();
    void step_lanes();

    std::vector<model::Qwen2VL> m_models;
    tok::Tokenizer m_tokenizer;
    EngineOptions m_options;

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::shared_ptr<GenerationJob>> m_waiting;
    bool m_stop = false;
    std::thread m_thread;

    std::atomic<int64_t> m_submitted{0}, m_completed{0}, m_cancelled{0}, m_failed{0}, m_tokens{0}, m_prompt_tokens{0},
        m_steps{0}, m_max_rows{0}, m_running_jobs{0}, m_running_rows{0};
};

}  // namespace matrix::serve
