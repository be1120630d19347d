// See agent_job.h.
#include "core/agent/agent_job.h"

#include <filesystem>

#include "core/store/run_repo.h"

namespace matrix::agent {

namespace fs = std::filesystem;

const char* const k_no_tool_backend_reason = "no tool plugin gives this tool a backend in this installation";

Result<ToolRegistry> agent_tool_registry(const std::vector<std::string>& names, const ToolHost& host,
                                         PluginLoadReport* report) {
    ToolRegistry all = matrix_tools_without_backends(k_no_tool_backend_reason);
    PluginLoadReport loaded = add_tool_plugins(all, host, default_plugin_folders());
    if (report) *report = std::move(loaded);
    if (names.empty()) return all;
    return all.subset(names);
}

Result<ToolHost> tool_host_for(Controller* controller) {
    MATRIX_TRY(ToolHost host, default_tool_host());
    if (controller) host.vlm = controller->tool_engine();
    return host;
}

Result<ToolHost> tool_host_described(const nlohmann::json& c) {
    MATRIX_TRY(ToolHost host, default_tool_host());
    const std::string kind = c.is_object() ? c.value("kind", "") : "";
    if (kind == "local" && !c.value("model", "").empty()) {
        host.vlm.backend = "local Qwen2-VL " + c.value("model", "") + " (the run's model, loaded when it starts)";
        host.vlm.box_format = "qwen2vl";
    } else if (kind == "endpoint" && !c.value("url", "").empty()) {
        host.vlm.backend = "endpoint " + c.value("url", "") + " model " + c.value("model", "") + " (the run's controller)";
    }
    return host;
}

std::string default_runs_folder(const std::string& db_path) {
    std::error_code ec;
    const fs::path p = fs::absolute(db_path, ec);
    return (p.parent_path() / (p.stem().string() + ".runs")).string();
}

Result<int64_t> create_agent_run_in(store::Database& db, AgentRunSettings& settings, const ToolRegistry& tools,
                                    const std::string& controller_description, const std::string& work_root) {
    MATRIX_TRY(int64_t run_id, create_agent_run(db, settings, tools, controller_description));
    settings.sandbox.work_dir = (fs::path(work_root) / ("run-" + std::to_string(run_id))).string();
    MATRIX_CHECK(update_run_settings(db, run_id, settings));
    return run_id;
}

Result<AgentRunSettings> load_agent_run_settings(store::Database& db, int64_t run_id) {
    MATRIX_TRY(auto run, store::RunRepo(db).get(run_id));
    if (!run || run->kind != "agent") return make_error("no agent run " + std::to_string(run_id));
    const nlohmann::json config = nlohmann::json::parse(run->config, nullptr, false);
    if (config.is_discarded()) return make_error("agent run " + std::to_string(run_id) + ": its settings are not JSON");
    auto settings = AgentRunSettings::from_json(config);
    if (!settings.ok()) return settings.error().within("agent run " + std::to_string(run_id));
    return settings;
}

Result<AgentJobOutcome> run_agent_job(store::Database& db, int64_t run_id, const AgentRunSettings& settings,
                                      Controller& controller, const ToolRegistry& tools, const AgentJobEvents& events,
                                      const std::atomic<bool>* cancel) {
    store::RunRepo runs(db);
    MATRIX_CHECK(runs.set_status(run_id, "running"));
    AgentJobOutcome job;
    for (int64_t task_id : settings.task_ids) {
        if (events.on_task_start) events.on_task_start(task_id);
        TaskRunEvents ev;
        if (events.on_step) ev.on_step = [&](const store::Step& s) { events.on_step(task_id, s); };
        if (events.on_note) ev.on_note = [&](const std::string& n) { events.on_note(task_id, n); };
        auto out = run_task(db, run_id, task_id, controller, tools, settings, ev, cancel);
        if (!out.ok()) {
            const Error e = out.error().within("agent run " + std::to_string(run_id) + ", task " + std::to_string(task_id));
            (void)runs.set_status(run_id, "failed", e.to_string());
            return e;
        }
        if (events.on_task_done) events.on_task_done(task_id, *out);
        job.tasks.emplace_back(task_id, std::move(*out));
        if (cancel && cancel->load()) {
            job.status = "cancelled";
            MATRIX_CHECK(runs.set_status(run_id, "cancelled"));
            return job;
        }
    }
    job.status = "finished";
    MATRIX_CHECK(runs.set_status(run_id, "finished"));
    return job;
}

}  // namespace matrix::agent
