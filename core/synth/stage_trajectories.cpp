// Stage "trajectories": the agent runtime (core/agent: ReAct code loop, Python sandbox, the real tools) with the
// teacher as controller (TeacherController: requests accounted and budgeted like every other), at most
// `max_steps` (8) steps, the bundled system prompt. All tasks of a dataset run in one agent run (kind 'agent',
// remembered in the project setting "synth.agent_run.<dataset>") whose steps are stored as they happen, so a
// killed job resumes a half-done task from its steps. A finished trajectory is copied as the task's primary
// trajectory (source "synth", what M-TRACE export writes), with the run's trajectory id in its extra.
// A task cut short by the budget, a cancel or an endpoint that could not answer stays pending (its run trajectory
// marked "cancelled" so run_task resumes it); one the agent could not finish otherwise is rejected with the reason.
#include "core/agent/agent_job.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/synth/synth_context.h"
#include "core/util/sha256.h"

namespace matrix::synth::detail {

using json = nlohmann::json;

namespace {
std::string run_setting_key(const std::string& dataset) { return "synth.agent_run." + dataset; }
}  // namespace

Status prepare_trajectories(Job& job, store::Database& db) {
    MATRIX_TRY(store::Statement st, db.prepare("SELECT value FROM settings WHERE key=?"));
    st.bind_all(run_setting_key(job.s.dataset));
    MATRIX_TRY(bool row, st.step());
    if (row) {
        const int64_t id = json::parse(st.column_text(0), nullptr, false).is_number_integer()
                               ? json::parse(st.column_text(0)).get<int64_t>() : 0;
        st.reset();
        if (id > 0) {
            auto loaded = agent::load_agent_run_settings(db, id);
            if (loaded.ok()) {
                job.agent_run_id = id;
                job.run_settings = std::move(loaded).value();
                return {};
            }
        }
    }
    st.reset();
    agent::AgentRunSettings s;
    s.name = "synth " + job.s.dataset;
    s.controller = {{"kind", "endpoint"}, {"url", job.s.endpoint}, {"model", job.s.model}};
    s.tools = job.s.tools;
    s.system_prompt = "bundled";
    s.loop.max_steps = job.s.max_steps;
    s.loop.infrastructure_retries = 0;  // the teacher's client has retried already
    s.loop.generation.seed = static_cast<uint64_t>(job.s.seed);
    s.sandbox = job.s.sandbox;
    MATRIX_TRY(agent::ToolHost host, agent::tool_host_described(s.controller));
    MATRIX_TRY(agent::ToolRegistry tools, agent::agent_tool_registry(s.tools, host));
    MATRIX_TRY(int64_t id, agent::create_agent_run_in(db, s, tools, "synthesis teacher: endpoint " + job.s.endpoint +
                                                                         " model " + job.s.model, job.work_root));
    MATRIX_TRY(store::Statement put, db.prepare("INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)"));
    put.bind_all(run_setting_key(job.s.dataset), std::to_string(id));
    MATRIX_CHECK(put.run());
    job.agent_run_id = id;
    job.run_settings = s;
    return {};
}

Result<UnitResult> run_trajectory(Job& job, store::Database& db, const Unit& unit, TeacherController& controller,
                                  const agent::ToolRegistry& tools) {
    UnitResult r;
    r.prompt_name = "agent system prompt (bundled)";
    r.prompt_sha256 = sha256_hex(agent::bundled_system_prompt());
    r.seed = unit_seed(job, unit.key, 0);
    controller.set_unit(unit.key);
    MATRIX_TRY(agent::TaskRunOutcome outcome,
               agent::run_task(db, job.agent_run_id, unit.task_id, controller, tools, job.run_settings, {}, job.cancel));
    store::TrajectoryRepo trajectories(db);
    const agent::AgentResult& res = outcome.result;
    auto reopen = [&](const std::string& why) -> Status {
        // Leave the run's trajectory resumable (run_task carries on from its steps next time).
        return trajectories.set_outcome(outcome.trajectory_id, std::nullopt,
                                        json{{"status", "cancelled"}, {"reason", why}}.dump());
    };
    if (res.status == "cancelled" || (res.status == "invalid" && (job.cancelled() || job.budget_hit.load()))) {
        MATRIX_CHECK(reopen(res.status == "cancelled" ? "cancelled" : res.invalid_reason));
        return job.budget_hit.load() ? budget_error() : cancelled_error();
    }
    if (res.status == "invalid" && res.invalid_reason.find("synth:infrastructure") != std::string::npos) {
        MATRIX_CHECK(reopen(res.invalid_reason));
        return Error{res.invalid_reason, "synth:infrastructure"};
    }
    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    if (res.status != "answered" && res.status != "forced") {
        r.reject({res.status == "invalid" ? "agent failed" : "no answer",
                  res.status == "invalid" ? excerpt(res.invalid_reason, 200) : "stopped at " + res.stop_reason});
        r.output = {{"agent_run", job.agent_run_id}, {"run_trajectory", outcome.trajectory_id}};
        MATRIX_CHECK(record_unit(job, db, "trajectories", unit, r));
        MATRIX_CHECK(tx.commit());
        return r;
    }
    MATRIX_TRY(auto run_traj, trajectories.get(outcome.trajectory_id, true));
    if (!run_traj) return make_error("trajectory " + std::to_string(outcome.trajectory_id) + " is gone");
    store::Trajectory copy;
    copy.task_id = unit.task_id;
    copy.source = "synth";
    copy.final_answer = res.answer_text;
    copy.steps = run_traj->steps;
    for (auto& s : copy.steps) s.id = 0;
    copy.extra = json{{"agent_run", job.agent_run_id}, {"run_trajectory", outcome.trajectory_id},
                      {"status", res.status}, {"forced", res.forced}}.dump();
    MATRIX_TRY(int64_t traj_id, trajectories.insert(copy));
    MATRIX_TRY(int64_t prompt_id, store::intern_system_prompt(db, agent::bundled_system_prompt()));
    MATRIX_TRY(store::Statement up, db.prepare("UPDATE tasks SET answer=?, system_prompt_id=? WHERE id=?"));
    up.bind_all(res.answer_text, prompt_id, unit.task_id);
    MATRIX_CHECK(up.run());
    r.n_out = 1;
    r.output = {{"agent_run", job.agent_run_id}, {"run_trajectory", outcome.trajectory_id}, {"trajectory", traj_id},
                {"steps", static_cast<int>(copy.steps.size())}, {"status", res.status}, {"answer", res.answer_text}};
    MATRIX_CHECK(record_unit(job, db, "trajectories", unit, r));
    MATRIX_CHECK(tx.commit());
    return r;
}

}  // namespace matrix::synth::detail
