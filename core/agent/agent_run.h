// Agent runs in a project: a runs row (kind "agent") holding every setting that made the run (controller,
// model, adapter or endpoint, tools and their backends, isolation, limits, sampling, seed, system prompt), one
// trajectory per task (source "run", with the run id) whose steps are stored as they happen, and a run result
// per task (answer, status, forced flag, steps, errors). A killed run keeps every finished step;
// run_task() on the same run and task carries on from them.
// Used by `matrix agent` and the GUI's agent worker. Thread safety: like Database (one thread per connection).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/agent/agent_loop.h"
#include "core/agent/controller.h"
#include "core/agent/sandbox.h"
#include "core/agent/tool.h"
#include "core/store/database.h"

namespace matrix::agent {

// Which system prompt the controller gets: "auto" (the task dataset's most common prompt when it has one, as a
// checkpoint tuned on that data expects, byte for byte; else the bundled one), "dataset", "bundled", or
// "file:PATH".
Result<std::string> choose_system_prompt(store::Database& db, int64_t task_id, const std::string& choice);

// A stored task made ready for the loop.
struct PreparedTask {
    int64_t task_id = 0;
    std::string task_key;  // the task's external id or record key
    AgentTask task;
    // {resolved file, path as the task text writes it}: shown to the code at the written path, and mapped back
    // when a tool gets the written path.
    std::vector<std::pair<std::string, std::string>> files;
    std::vector<std::string> missing;  // files the task names that were not found (the run goes on; noted)
};
Result<PreparedTask> prepare_task(store::Database& db, int64_t task_id, const std::string& system_choice);

// A task typed in by the user (dataset "adhoc" of kind adhoc): "Task: TEXT" and, with images,
// "\nAttachment: p1; p2; " as in M-TRACE. Images are stored as media rows (absolute paths).
Result<int64_t> create_adhoc_task(store::Database& db, const std::string& text, const std::vector<std::string>& images);

struct AgentRunSettings {
    std::string name;
    nlohmann::json controller;  // {"kind": "local", "model", "adapter", ...} | {"kind": "endpoint", "url", "model"}
    std::vector<std::string> tools;  // the tools offered (names)
    std::string system_prompt = "auto";
    LoopSettings loop;
    SandboxOptions sandbox;  // work_dir: the run's folder; each task works in <work_dir>/task-<id>
    std::vector<int64_t> task_ids;

    nlohmann::json to_json() const;
    static Result<AgentRunSettings> from_json(const nlohmann::json& j);
};

// One `--set key=value` of the settings every agent job shares (agent runs, evaluation runs, sampling runs):
// max_steps, max_errors, max_new_tokens, seed, temperature / top_p / top_k / repetition_penalty / greedy (the
// first sampling group), system_prompt, step_timeout_s, max_output_chars, isolation, address_space_mib,
// cpu_seconds, processes, file_size_mib, work_dir, forced_final_answer, and dtype / device / api_key_env (the
// controller's). Returns false for a key it does not know (the caller's own keys, or an error), an error for a
// bad value.
Result<bool> apply_shared_setting(const std::string& key, const std::string& value, LoopSettings& loop,
                                  SandboxOptions& sandbox, std::string& system_prompt, nlohmann::json& controller);
// Splits "key=value" (an error naming the text when there is no '=').
Result<std::pair<std::string, std::string>> split_setting(const std::string& key_value);

// Creates the run row (status "created") with the settings and the tool registry's status.
Result<int64_t> create_agent_run(store::Database& db, const AgentRunSettings& settings, const ToolRegistry& tools,
                                 const std::string& controller_description);

// Replaces the stored settings of a run (keeping the tool status and controller description recorded at creation).
Status update_run_settings(store::Database& db, int64_t run_id, const AgentRunSettings& settings);

// The sandbox a task of a run works in: <settings.sandbox.work_dir>/task-<id>, the task's files shown read-only
// where its text names them, the import policy of its system prompt, the registry's tools (a call's paths as
// the code writes them mapped to host files; `current_step`, when given, is read at each call for the step the
// call belongs to). `tools` must outlive the sandbox.
Result<std::unique_ptr<Sandbox>> start_task_sandbox(const PreparedTask& prepared, const AgentRunSettings& settings,
                                                    const ToolRegistry& tools, const int* current_step = nullptr);

struct TaskRunEvents {
    std::function<void(const store::Step&)> on_step;  // after each stored step
    std::function<void(const std::string&)> on_note;  // isolation, missing files, resumed steps
    // Called with the prepared task before the loop starts (also on resume), e.g. to write a benchmark's
    // task text (GTA's "\nAttachment:\n" paths); must give the same result every time for one task.
    std::function<void(PreparedTask&)> on_prepared;
};

// Runs (or resumes) the agent on one task of the run; stores steps as they happen, then the outcome.
// Returns the trajectory id with the result. A task already finished in this run is returned as stored.
struct TaskRunOutcome {
    int64_t trajectory_id = 0;
    AgentResult result;
    bool already_finished = false;
    int resumed_steps = 0;
};
Result<TaskRunOutcome> run_task(store::Database& db, int64_t run_id, int64_t task_id, Controller& controller,
                                const ToolRegistry& tools, const AgentRunSettings& settings,
                                const TaskRunEvents& events = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace matrix::agent
