// One chat completion as the batch engine sees it (GenerationJob: token ids, images, sampling) and the channel its
// results come back on (JobChannel: the engine thread pushes events, the HTTP thread that owns the request pops
// them and can cancel the job, e.g. when its client disconnected).
// Thread safety: JobChannel is safe between one producer (the engine) and any consumers; GenerationJob is
// immutable once submitted.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace matrix::serve {

struct JobEvent {
    enum class Kind { token, finish, done, error };
    Kind kind = Kind::token;
    int64_t candidate = 0;
    std::string text;    // token: the text that may be sent now (can be ""); finish: the last piece; error: message
    int64_t token = -1;  // token: the id
    std::string finish_reason;  // finish: "stop" or "length"
};

class JobChannel {
public:
    void push(JobEvent e) {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_events.push_back(std::move(e));
        }
        m_cv.notify_all();
    }
    // Waits up to `timeout` for events; returns all that are there (possibly none).
    std::vector<JobEvent> pop_all(std::chrono::milliseconds timeout) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait_for(lock, timeout, [&] { return !m_events.empty(); });
        std::vector<JobEvent> out(std::make_move_iterator(m_events.begin()), std::make_move_iterator(m_events.end()));
        m_events.clear();
        return out;
    }
    void cancel() { m_cancel.store(true); }
    bool cancelled() const { return m_cancel.load(); }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<JobEvent> m_events;
    std::atomic<bool> m_cancel{false};
};

struct GenerationJob {
    size_t model_index = 0;          // 0: the base model; k: the k-th adapter
    std::vector<int64_t> prompt_ids;
    torch::Tensor pixel_values;      // [n_patches, patch_dim] float32, optional
    torch::Tensor image_grid_thw;    // [n_images, 3] int64
    int64_t n = 1;                   // candidates sharing the prompt's cache
    int64_t max_tokens = 16;
    bool do_sample = false;          // false: greedy (argmax after the repetition penalty)
    double temperature = 1.0, top_p = 1.0, repetition_penalty = 1.0;
    int64_t top_k = 0;
    uint64_t seed = 0;
    std::vector<std::string> stop;
    std::shared_ptr<JobChannel> channel;
};

}  // namespace matrix::serve
