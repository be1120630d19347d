// The ReAct code loop of the MATRIX reference agent: messages [system, user(images + task), (assistant action, user
// observation)*]; each step the controller writes "Thought: ... Code: ```py ...```", the code runs in the sandbox,
// and what it printed (or the error) is the next user turn. The run ends when the code calls final_answer(), or
// at the step limit (8) or error limit (5); then, like the reference, one more call without images asks for an
// answer from the agent's memory, kept and flagged as forced. Infrastructure errors of the controller are retried
// and finally make the task invalid; they are never observations.
// Every step is handed to the caller as it happens (on_step), so a killed run keeps its finished steps;
// run_agent(..., resume_from = those steps) replays their code into a fresh sandbox and carries on.
// Thread safety: one loop per sandbox and controller.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/controller.h"
#include "core/agent/sandbox.h"
#include "core/conversation/action.h"
#include "core/store/trajectory_repo.h"

namespace matrix::agent {

struct AgentTask {
    std::string system_prompt;        // verbatim; see choose_system_prompt()
    std::string task_text;            // the first user turn's text ("Task: ...", attachments as the data has them)
    std::vector<std::string> images;  // image files given to the model before the task text (resolved paths)
};

struct LoopSettings {
    int max_steps = 8;
    int max_errors = 5;
    GenerationSettings generation;
    int infrastructure_retries = 3;   // extra attempts after an infrastructure error, with backoff
    double retry_backoff_s = 2.0;     // doubled each attempt
    bool forced_final_answer = true;  // at a limit, ask once more for an answer (flagged)
};

// The texts of an error step's observation (core/conversation's formats, with the data's retry sentence):
// "Code execution failed due to the following error:\n{exception}" and "Error in code parsing: {why}".
std::string execution_error_text(const std::string& exception_text);
std::string parse_error_text(const std::string& why);
// Why a reply cannot be run (no code block, or one that is not closed), as the parse error's text says it;
// nullopt when it has a closed code block.
std::optional<std::string> action_format_problem(const conversation::ParsedAction& parsed);
// The observation of a step that printed nothing.
extern const char* const k_no_output_note;

struct AgentResult {
    // answered: final_answer() was called; forced: the forced answer after a limit; no_answer: a limit was
    // reached and no forced answer was asked; invalid: infrastructure or controller failure (reason set);
    // cancelled.
    std::string status;
    std::optional<nlohmann::json> final_answer;  // the value given to final_answer()
    std::string answer_text;                     // str() of it, or the forced answer's text
    bool forced = false;
    std::string stop_reason;  // "final_answer", "max_steps", "max_errors", "invalid", "cancelled"
    std::string invalid_reason;
    int steps = 0, errors = 0;
    std::vector<store::Step> trajectory;  // every step, resumed ones included
};

using StepCallback = std::function<Status(const store::Step& step)>;

// Runs the loop. `resume_from`: steps already taken (from the store); their code is executed again to rebuild the
// interpreter state and their stored turns are used as the history. `on_step` is called after each new step.
Result<AgentResult> run_agent(const AgentTask& task, Controller& controller, Sandbox& sandbox,
                              const LoopSettings& settings, const std::vector<store::Step>& resume_from = {},
                              const StepCallback& on_step = {}, const std::atomic<bool>* cancel = nullptr);

// The chat messages for the next step of a task with these steps (for the controller; also what the GUI shows).
std::vector<tok::ChatMessage> agent_prompt(const AgentTask& task, const std::vector<store::Step>& steps);

// The import allow-list a system prompt states ("... only from the following list of modules: ['a', 'b']", as in
// the M-TRACE prompts; "Only these modules may be imported: a, b." in the bundled one); nullopt when it names none.
std::optional<std::vector<std::string>> authorized_imports_in_prompt(const std::string& system_prompt);

// The bundled system prompt for base models (resources/prompts/matrix_agent_system.txt, compiled in).
const std::string& bundled_system_prompt();

}  // namespace matrix::agent
