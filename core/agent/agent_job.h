// An agent run as a job: what `matrix agent run/resume` and the GUI's AgentWorker both do around run_task():
// the tool registry from the settings' tool names, the run row with its own work folder, the settings of a
// stored run (for resume), and driving every task of the run with the run's status kept up to date (running,
// then finished, cancelled or failed). The controller is the caller's: which engines exist depends on the build
// (the local one needs LibTorch), so it is made where that is known and handed in.
// Thread safety: like Database (the job runs on the thread that owns the connection; callbacks run there too).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/agent/agent_run.h"
#include "core/agent/plugin_loader.h"
#include "core/agent/tool_host.h"

namespace matrix::agent {

// The reason every MATRIX tool gives in an installation without tool plugins.
extern const char* const k_no_tool_backend_reason;

// The tools named (every tool when `names` is empty: the MATRIX tools, then tools that only plugins offer), each
// with its backend status: the MATRIX tools listed as unavailable, then every tool plugin found in
// default_plugin_folders() registered over them, made for `host` (the engine a controller lends, the user's tool
// settings). An unknown name is an error naming it; plugins that failed to load are in `report` when given.
// `host`'s engine must outlive the registry.
Result<ToolRegistry> agent_tool_registry(const std::vector<std::string>& names, const ToolHost& host = {},
                                         PluginLoadReport* report = nullptr);

// default_tool_host() with the controller's engine lent to the tools (the tools' settings file unreadable: an
// error naming it).
Result<ToolHost> tool_host_for(Controller* controller);

// default_tool_host() with the engine that the controller settings name described but not loaded (for the tool
// status recorded when a run is created and shown before it starts): engine tools report it as their backend,
// and a call before the controller is loaded says so.
Result<ToolHost> tool_host_described(const nlohmann::json& controller_settings);

// Where runs of the project at `db_path` work by default: "<folder of the project>/<project stem>.runs".
std::string default_runs_folder(const std::string& db_path);

// Creates the run row for `settings` (tools recorded with their status) and gives it its own work folder,
// <work_root>/run-<id>, stored in the run's settings and written back into `settings.sandbox.work_dir`.
Result<int64_t> create_agent_run_in(store::Database& db, AgentRunSettings& settings, const ToolRegistry& tools,
                                    const std::string& controller_description, const std::string& work_root);

// The settings a stored agent run was made with; an error when the run is missing or not an agent run.
Result<AgentRunSettings> load_agent_run_settings(store::Database& db, int64_t run_id);

struct AgentJobEvents {
    std::function<void(int64_t task_id)> on_task_start;
    std::function<void(int64_t task_id, const store::Step& step)> on_step;  // after each stored step
    std::function<void(int64_t task_id, const std::string& note)> on_note;
    std::function<void(int64_t task_id, const TaskRunOutcome& outcome)> on_task_done;
};

struct AgentJobOutcome {
    std::string status;  // the run's status now: "finished" or "cancelled"
    std::vector<std::pair<int64_t, TaskRunOutcome>> tasks;  // per task run (in the settings' order)
};

// Runs (or resumes) every task of the run in order; tasks finished earlier come back as stored. The run's status
// becomes "running", then "finished", or "cancelled" when `cancel` was set (every finished step is kept; calling
// this again carries on), or "failed" with the error when a task could not be run (the error is returned).
Result<AgentJobOutcome> run_agent_job(store::Database& db, int64_t run_id, const AgentRunSettings& settings,
                                      Controller& controller, const ToolRegistry& tools,
                                      const AgentJobEvents& events = {}, const std::atomic<bool>* cancel = nullptr);

}  // namespace matrix::agent
