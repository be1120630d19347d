// The agent loop (see agent_loop.h). Turn texts follow the M-TRACE data: the observation turn is
// "[OUTPUT OF STEP i] Observation:\n{printed}", the error turn "[OUTPUT OF STEP i] Error: {message}" + the
// data's retry sentence, where message starts with "Code execution failed due to the following error:\n" or
// "Error in code parsing: ".
#include "core/agent/agent_loop.h"

#include <chrono>
#include <regex>
#include <thread>

#include "core/conversation/action.h"
#include "core/conversation/chat_messages.h"
#include "core/conversation/observation.h"
#include "core/conversation/steps.h"

namespace matrix::agent {

extern const char* const k_bundled_system_prompt;  // embedded at build time

const char* const k_no_output_note =
    "The code ran and printed nothing. Values that are not printed are not shown: print() what you need to see.";

namespace {

// The forced answer's instructions (ours; the reference's contract: the memory without images, then the request).
const char* const k_forced_system =
    "An agent was given the task below and tried to solve it step by step with tools, but it stopped before giving "
    "its final answer. Its steps and what they printed follow. Answer the task yourself from this record: give only "
    "the final answer, in the form the task asks for.";

std::string answer_text_of(const nlohmann::json& value, const std::string& python_text) {
    if (!python_text.empty()) return python_text;
    if (value.is_string()) return value.get<std::string>();
    if (value.is_null()) return "None";
    return value.dump();
}

void sleep_cancellable(double seconds, const std::atomic<bool>* cancel) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (std::chrono::steady_clock::now() < until) {
        if (cancel && cancel->load()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Calls the controller, retrying infrastructure errors. An error result here means the task is invalid.
Result<std::vector<Candidate>> generate_with_retries(Controller& controller, const std::vector<tok::ChatMessage>& messages,
                                                     const LoopSettings& settings, const std::atomic<bool>* cancel,
                                                     std::vector<std::string>* retry_log) {
    double backoff = settings.retry_backoff_s;
    for (int attempt = 0;; ++attempt) {
        auto r = controller.generate(messages, settings.generation, cancel);
        if (r.ok()) {
            if (r->empty()) return make_error("the controller returned no candidate");
            return r;
        }
        if (!is_infrastructure_error(r.error()) || attempt >= settings.infrastructure_retries) return r.error();
        if (retry_log) retry_log->push_back(r.error().to_string());
        sleep_cancellable(backoff, cancel);
        if (cancel && cancel->load()) return r.error();
        backoff *= 2;
    }
}

std::string memory_transcript(const AgentTask& task, const std::vector<store::Step>& steps) {
    std::string out = task.task_text + "\n";
    for (const store::Step& s : steps) {
        out += "\n--- Step " + std::to_string(s.idx) + " ---\n" + s.action.value_or("") + "\n";
        if (auto turn = conversation::observation_turn(s)) out += *turn + "\n";
    }
    out += "\nNow give the final answer to the task.";
    return out;
}

}  // namespace

std::string execution_error_text(const std::string& exception_text) {
    return conversation::with_retry_suffix(conversation::execution_error(exception_text));
}

std::string parse_error_text(const std::string& why) {
    return conversation::with_retry_suffix(std::string(conversation::k_parsing_error_prefix) + why);
}

std::optional<std::string> action_format_problem(const conversation::ParsedAction& parsed) {
    if (!parsed.has_code)
        return std::string("the reply has no code block. Write \"Thought:\" with your reasoning, then \"Code:\" and one ```py "
                           "block that ends with ```<end_action>.");
    if (!parsed.code_fence_closed) return std::string("the code block is not closed. End it with ``` and then <end_action>.");
    return std::nullopt;
}

std::optional<std::vector<std::string>> authorized_imports_in_prompt(const std::string& prompt) {
    static const std::regex listed(R"(list of modules:\s*\[([^\]]*)\])");
    static const std::regex sentence(R"(Only these modules may be imported:\s*([^\n]*?)\.?\n)");
    static const std::regex quoted(R"('([^']*)')");
    static const std::regex word(R"([A-Za-z_][A-Za-z0-9_.]*)");
    std::smatch m;
    std::vector<std::string> out;
    if (std::regex_search(prompt, m, listed)) {
        const std::string inner = m[1].str();
        for (std::sregex_iterator it(inner.begin(), inner.end(), quoted), end; it != end; ++it) out.push_back((*it)[1].str());
        return out;
    }
    if (std::regex_search(prompt, m, sentence)) {
        const std::string inner = m[1].str();
        for (std::sregex_iterator it(inner.begin(), inner.end(), word), end; it != end; ++it) out.push_back(it->str());
        return out;
    }
    return std::nullopt;
}

const std::string& bundled_system_prompt() {
    static const std::string text = k_bundled_system_prompt;
    return text;
}

std::vector<tok::ChatMessage> agent_prompt(const AgentTask& task, const std::vector<store::Step>& steps) {
    conversation::AgentConversation c;
    c.system = task.system_prompt;
    c.image_paths = task.images;
    c.task = task.task_text;
    for (const store::Step& s : steps) {
        c.turns.push_back(tok::ChatMessage::make("assistant", s.action.value_or("")));
        if (auto turn = conversation::observation_turn(s)) c.turns.push_back(tok::ChatMessage::make("user", *turn));
    }
    return conversation::agent_messages(c);
}

Result<AgentResult> run_agent(const AgentTask& task, Controller& controller, Sandbox& sandbox,
                              const LoopSettings& settings, const std::vector<store::Step>& resume_from,
                              const StepCallback& on_step, const std::atomic<bool>* cancel) {
    AgentResult result;
    std::vector<store::Step>& steps = result.trajectory;

    // Resume: the stored steps are the history; their code runs again to rebuild the interpreter's variables.
    for (const store::Step& s : resume_from) {
        steps.push_back(s);
        if (s.is_error) ++result.errors;
        if (s.is_final) {
            result.status = "answered";
            result.stop_reason = "final_answer";
            result.steps = static_cast<int>(steps.size());
            if (s.extra) {
                const auto extra = nlohmann::json::parse(*s.extra, nullptr, false);
                if (extra.is_object() && extra.contains("final_answer")) {
                    result.final_answer = extra["final_answer"];
                    result.answer_text = extra.value("answer_text", answer_text_of(extra["final_answer"], ""));
                }
            }
            return result;
        }
        if (!s.code.empty()) {
            auto replayed = sandbox.execute(s.code, s.idx);
            if (!replayed.ok()) return replayed.error().within("replaying step " + std::to_string(s.idx));
        }
    }

    while (true) {
        if (cancel && cancel->load()) {
            result.status = "cancelled";
            result.stop_reason = "cancelled";
            break;
        }
        const int i = static_cast<int>(steps.size());
        if (i >= settings.max_steps || result.errors >= settings.max_errors) {
            result.stop_reason = i >= settings.max_steps ? "max_steps" : "max_errors";
            break;
        }
        std::vector<std::string> retries;
        auto generated = generate_with_retries(controller, agent_prompt(task, steps), settings, cancel, &retries);
        if (!generated.ok()) {
            if (cancel && cancel->load()) {
                result.status = "cancelled";
                result.stop_reason = "cancelled";
            } else {
                result.status = "invalid";
                result.stop_reason = "invalid";
                result.invalid_reason = (is_infrastructure_error(generated.error()) ? "infrastructure error at step " :
                                         "controller error at step ") + std::to_string(i) + ": " +
                                        generated.error().message;
            }
            break;
        }
        const Candidate& cand = generated->front();
        store::Step step = conversation::step_from_action(i, cand.text);
        step.action = cand.text;
        nlohmann::json extra = {{"finish_reason", cand.finish_reason}};
        if (cand.tokens >= 0) extra["tokens"] = cand.tokens;
        if (!retries.empty()) extra["infrastructure_retries"] = retries;

        const conversation::ParsedAction parsed = conversation::parse_action(cand.text);
        if (auto problem = action_format_problem(parsed)) {
            step.is_error = true;
            step.observation = parse_error_text(*problem);
        } else {
            MATRIX_TRY(auto exec, sandbox.execute(parsed.code, i));
            extra["seconds"] = exec.seconds;
            extra["tool_calls"] = exec.tool_calls;
            if (exec.timed_out) extra["timed_out"] = true;
            if (exec.crashed) extra["crashed"] = true;
            if (exec.is_final) {
                step.is_final = true;
                result.final_answer = exec.final_answer;
                result.answer_text = answer_text_of(exec.final_answer, exec.final_answer_text);
                extra["final_answer"] = exec.final_answer;
                extra["answer_text"] = result.answer_text;
                if (!exec.output.empty()) extra["printed"] = exec.output;
            } else if (exec.error) {
                step.is_error = true;
                step.observation = execution_error_text(*exec.error);
                if (!exec.output.empty()) extra["printed"] = exec.output;
            } else {
                step.observation = exec.output.empty() ? std::string(k_no_output_note) : exec.output;
            }
        }
        step.extra = extra.dump();
        if (step.is_error) ++result.errors;
        steps.push_back(step);
        if (on_step) MATRIX_CHECK(on_step(step));
        if (step.is_final) {
            result.status = "answered";
            result.stop_reason = "final_answer";
            break;
        }
    }
    result.steps = static_cast<int>(steps.size());

    if (result.status.empty()) {  // a limit was reached
        if (!settings.forced_final_answer) {
            result.status = "no_answer";
        } else {
            std::vector<tok::ChatMessage> messages = {tok::ChatMessage::make("system", k_forced_system),
                                                      tok::ChatMessage::make("user", memory_transcript(task, steps))};
            LoopSettings forced = settings;
            forced.generation.stop.clear();
            std::vector<std::string> retries;
            auto answer = generate_with_retries(controller, messages, forced, cancel, &retries);
            if (!answer.ok()) {
                result.status = "invalid";
                result.invalid_reason = "forced final answer: " + answer.error().to_string();
            } else {
                result.status = "forced";
                result.forced = true;
                result.answer_text = answer->front().text;
                result.final_answer = nlohmann::json(result.answer_text);
            }
        }
    }
    return result;
}

}  // namespace matrix::agent
