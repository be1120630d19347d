// Controllers: who writes the agent's next action. The loop hands a controller the chat messages (ChatML roles,
// the task's images as file parts) and sampling groups; it answers with candidate texts, cut at the stop
// strings. Implementations: the local Qwen2-VL engine (core/agent/local/local_controller.h), an OpenAI-compatible
// endpoint (endpoint_controller.h), and scripted replies (tests, replay).
// Errors: a controller that could not produce an answer because of infrastructure (HTTP 429/5xx, timeouts,
// a dead server) returns an error made by infrastructure_error(); the loop retries those and finally marks the
// task invalid, never turning them into observations.
// Thread safety: one call at a time per controller unless an implementation says otherwise.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/agent/tool_host.h"
#include "core/conversation/action.h"
#include "core/tokenizer/chat_template.h"
#include "core/util/result.h"

namespace matrix::agent {

// One group of candidates sampled with the same settings (Pref-X uses two: 1 at T 0.7 with repetition penalty
// 1.05, K-1 at T 1.2).
struct SamplingGroup {
    int n = 1;
    bool do_sample = true;  // false: greedy
    double temperature = 0.7;
    double top_p = 0.8;
    int top_k = 100;
    double repetition_penalty = 1.05;
};

struct GenerationSettings {
    int max_new_tokens = 512;
    std::vector<std::string> stop = conversation::agent_stop_strings();
    uint64_t seed = 0;
    // false: a controller may derive each call's seed from `seed` and its own call count (a run reproduces from
    // its start). true: `seed` is this call's seed, used as given (group g adds g); step sampling derives one per
    // task and step, so a resumed run draws the same candidates as an uninterrupted one.
    bool exact_seed = false;
    std::vector<SamplingGroup> groups = {SamplingGroup{}};
};

struct Candidate {
    std::string text;           // without the stop string that ended it
    std::string finish_reason;  // "stop", "eos", "length", "cancelled"
    int64_t tokens = -1;        // generated tokens when known
};

class Controller {
public:
    virtual ~Controller() = default;
    // For the run's settings: which model, adapter or endpoint answers.
    virtual std::string describe() const = 0;
    // Candidates of all groups, in group order.
    virtual Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                    const GenerationSettings& settings,
                                                    const std::atomic<bool>* cancel = nullptr) = 0;
    // The engine this controller lends to tools (visualizer, objectlocation, a question to inspect_file_as_text):
    // the same weights and queue, greedy, without moving the run's seed sequence. Default: none. The engine
    // refers to this controller, which must outlive every tool registry made with it.
    virtual VlmEngine tool_engine() { return {}; }
};

// An error the loop must not treat as the model's answer (see above).
Error infrastructure_error(const std::string& message);
bool is_infrastructure_error(const Error& error);

// Cuts a generated text at the first stop string (the reference applies stop strings after generation).
std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop);

// Replies from a list, one per call (the last one repeats when `repeat_last`): tests and dry runs.
class ScriptedController : public Controller {
public:
    explicit ScriptedController(std::vector<std::string> replies, bool repeat_last = false)
        : m_replies(std::move(replies)), m_repeat_last(repeat_last) {}
    std::string describe() const override { return "scripted replies"; }
    Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                            const GenerationSettings& settings,
                                            const std::atomic<bool>* cancel = nullptr) override;
    // The messages of every call, for tests.
    const std::vector<std::vector<tok::ChatMessage>>& calls() const { return m_calls; }

private:
    std::vector<std::string> m_replies;
    bool m_repeat_last;
    size_t m_next = 0;
    std::vector<std::vector<tok::ChatMessage>> m_calls;
};

}  // namespace matrix::agent
