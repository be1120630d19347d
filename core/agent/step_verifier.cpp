// The step verifier (see step_verifier.h).
#include "core/agent/step_verifier.h"
#include "core/util/utf8.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace matrix::agent {

namespace {

const char* const k_verifier_system =
    "You review the next step of an agent that solves tasks by writing Python code which calls tools. What the "
    "code prints is the step's observation. You are given the task, the observations of the steps the agent has "
    "already taken, and several candidate next steps, each with its code and what running it printed.\n"
    "Choose the candidate that moves the agent furthest towards a correct answer. Prefer, in this order: code that "
    "ran without an error; the tool that fits the task, called with the right arguments and the task's own file "
    "paths; an observation that holds the information the task needs; no repetition of work already done. A "
    "candidate that gives the final answer is the best only when that answer follows from the observations.\n"
    "Reply with one JSON object and nothing else:\n"
    "{\"reason\": \"<one or two sentences on why this candidate is the best>\", \"best_id\": <the number of the "
    "best candidate, from 1 to N>}";

std::string cut(const std::string& s, size_t max) {
    if (s.size() <= max) return s;
    const size_t end = utf8::floor_boundary(s, max);  // not inside a UTF-8 sequence
    return s.substr(0, end) + "\n[... " + std::to_string(s.size() - end) + " more characters]";
}

// The end of the JSON object starting at text[begin] == '{' (index of its '}'), npos when it does not close.
size_t object_end(const std::string& text, size_t begin) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = begin; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{') ++depth;
        else if (c == '}' && --depth == 0) return i;
    }
    return std::string::npos;
}

}  // namespace

std::vector<tok::ChatMessage> verifier_messages(const VerifierRequest& r, size_t max_observation_chars) {
    const std::string n = std::to_string(r.candidates.size());
    std::string system = k_verifier_system;
    system.replace(system.rfind("to N>"), 5, "to " + n + ">");
    std::string user = "Task:\n" + r.task + "\n";
    for (size_t i = 0; i < r.captions.size(); ++i)
        user += "\nDescription of file " + std::to_string(i + 1) + ": " + r.captions[i] + "\n";
    user += "\nObservations of the steps taken so far:\n";
    if (r.previous_observations.empty()) user += "(none: this is the first step)\n";
    for (size_t i = 0; i < r.previous_observations.size(); ++i)
        user += "Step " + std::to_string(i) + ": " + cut(r.previous_observations[i], max_observation_chars) + "\n";
    user += "\nThere are " + n + " candidate next steps.\n";
    for (size_t i = 0; i < r.candidates.size(); ++i) {
        user += "\n=== Candidate " + std::to_string(i + 1) + " ===\nAction:\n" + r.candidates[i].action +
                "\nObservation:\n" + cut(r.candidates[i].observation, max_observation_chars) + "\n";
    }
    user += "\nWhich candidate is the best next step? Answer with the JSON object only.";
    return {tok::ChatMessage::make("system", system), tok::ChatMessage::make("user", user)};
}

Result<VerifierVerdict> parse_verifier_reply(const std::string& reply, int n_candidates) {
    std::optional<Error> range_error;
    for (size_t at = reply.find('{'); at != std::string::npos; at = reply.find('{', at + 1)) {
        const size_t end = object_end(reply, at);
        if (end == std::string::npos) break;
        const auto j = nlohmann::json::parse(reply.substr(at, end - at + 1), nullptr, false);
        if (!j.is_object() || !j.contains("best_id")) continue;
        const nlohmann::json& b = j["best_id"];
        long long id = 0;
        bool ok = false;
        if (b.is_number_integer()) {
            id = b.get<long long>();
            ok = true;
        } else if (b.is_number_float() && std::floor(b.get<double>()) == b.get<double>()) {
            id = static_cast<long long>(b.get<double>());
            ok = true;
        } else if (b.is_string()) {
            const std::string s = b.get<std::string>();
            char* stop = nullptr;
            id = std::strtoll(s.c_str(), &stop, 10);
            ok = !s.empty() && *stop == '\0';
        }
        if (!ok) {
            range_error = make_error("best_id " + b.dump() + " is not a number");
            continue;
        }
        if (id < 1 || id > n_candidates) {
            range_error = make_error("best_id " + std::to_string(id) + " out of range 1.." + std::to_string(n_candidates));
            continue;
        }
        VerifierVerdict v;
        v.best = static_cast<int>(id - 1);
        if (j.contains("reason")) v.reason = j["reason"].is_string() ? j["reason"].get<std::string>() : j["reason"].dump();
        v.raw = reply;
        return v;
    }
    if (range_error) return *range_error;
    return make_error("no JSON object with best_id in the verifier's reply");
}

LlmStepVerifier::LlmStepVerifier(Controller& controller, int max_new_tokens)
    : m_controller(controller), m_max_new_tokens(max_new_tokens) {}

std::string LlmStepVerifier::describe() const { return "LLM verifier: " + m_controller.describe(); }

Result<VerifierVerdict> LlmStepVerifier::rank(const VerifierRequest& request, const std::atomic<bool>* cancel) {
    if (request.candidates.empty()) return make_error("no candidates to rank");
    GenerationSettings g;
    g.max_new_tokens = m_max_new_tokens;
    g.stop = {};
    g.seed = request.seed;
    g.exact_seed = true;
    SamplingGroup greedy;
    greedy.n = 1;
    greedy.do_sample = false;
    greedy.repetition_penalty = 1.0;
    g.groups = {greedy};
    MATRIX_TRY(auto replies, m_controller.generate(verifier_messages(request), g, cancel));
    if (replies.empty()) return make_error("the verifier returned no reply");
    auto verdict = parse_verifier_reply(replies.front().text, static_cast<int>(request.candidates.size()));
    if (!verdict.ok()) {
        Error e = verdict.error();
        e.message += " (reply: " + nlohmann::json(cut(replies.front().text, 300)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ")";
        return e;
    }
    return verdict;
}

}  // namespace matrix::agent
