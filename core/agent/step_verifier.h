// The step verifier of Pref-X sampling (the reference's step-wise verifier): given the task, the observations of the steps
// already chosen, and the K candidate next steps (action + what it printed), a text LLM picks the best one and
// says why, as JSON {"reason": "...", "best_id": n} with n counted from 1. The prompt is our own; the contract
// (inputs, JSON answer, 1-based id) is the reference's. Unlike the reference, a reply that is not such JSON,
// an id out of range or an endpoint failure is an error for the caller to log (the step is dropped), never a
// silent "candidate 0".
// Thread safety: rank() is as thread-safe as the controller behind it.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/agent/controller.h"
#include "core/util/result.h"

namespace matrix::agent {

struct VerifierCandidate {
    std::string action;       // the candidate's assistant turn (without <end_action>)
    std::string observation;  // what its code printed, or its error text
};

struct VerifierRequest {
    std::string task;                               // the task text as the agent got it
    std::vector<std::string> captions;              // descriptions of the task's files, when known
    std::vector<std::string> previous_observations;  // of the chosen steps so far, in order
    std::vector<VerifierCandidate> candidates;
    uint64_t seed = 0;                               // for a sampled verifier (the call's seed, used as given)
};

struct VerifierVerdict {
    int best = -1;        // 0-based index of the best candidate
    std::string reason;   // the verifier's reason
    std::string raw;      // its whole reply
};

class StepVerifier {
public:
    virtual ~StepVerifier() = default;
    virtual std::string describe() const = 0;
    virtual Result<VerifierVerdict> rank(const VerifierRequest& request, const std::atomic<bool>* cancel = nullptr) = 0;
};

// Our verifier prompt: [system (the rules and the JSON answer), user (task, earlier observations, candidates)].
// Long observations are cut to `max_observation_chars` each.
std::vector<tok::ChatMessage> verifier_messages(const VerifierRequest& request, size_t max_observation_chars = 4000);

// Reads the verifier's answer: the first JSON object in the reply (bare or in a ```json fence) that has a
// "best_id" (an integer, or a string / float holding one) between 1 and n_candidates; "reason" a string
// (absent: ""). Errors say what was wrong ("no JSON object with best_id", "best_id 7 out of range 1..5").
Result<VerifierVerdict> parse_verifier_reply(const std::string& reply, int n_candidates);

// A verifier over any controller (an endpoint's model, the local engine): greedy, one answer, no stop strings.
// The controller is not owned and may be the one that writes the actions.
class LlmStepVerifier : public StepVerifier {
public:
    explicit LlmStepVerifier(Controller& controller, int max_new_tokens = 512);
    std::string describe() const override;
    Result<VerifierVerdict> rank(const VerifierRequest& request, const std::atomic<bool>* cancel = nullptr) override;

private:
    Controller& m_controller;
    int m_max_new_tokens;
};

}  // namespace matrix::agent
