// Trajectories of a task (the M-TRACE one, a gold dialog, step-sampling's best path, an eval run's): ordered
// steps with the verbatim action, its thought/code split, the parsed tool calls and the observation.
// The trajectory stepper reads them with get(); importers and runs write them with insert().
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct ToolCallRow {
    int64_t id = 0;
    int position = 0;
    std::string name;
    std::string arguments = "{}";  // JSON object text
    bool known = false;
};

// A step-sampling candidate (beam_search_data.json: llm_output_j, rationale_j, tool_call_j, observation_j).
struct StepCandidate {
    int64_t id = 0;
    int position = 0;
    std::string action;
    std::optional<std::string> rationale;
    std::optional<std::string> tool_call;  // JSON text
    std::optional<std::string> observation;
    bool is_best = false;
};

struct Step {
    int64_t id = 0;
    int idx = 0;
    std::optional<std::string> action;  // verbatim assistant turn
    std::string thought, code;
    std::optional<std::string> observation;      // output / error text without the observation turn's header
    std::optional<std::string> observation_raw;  // verbatim turn when not the canonical rendering
    bool is_error = false;
    bool is_final = false;
    std::optional<std::string> extra;  // JSON text
    std::vector<ToolCallRow> tool_calls;
    std::vector<StepCandidate> candidates;
};

struct Trajectory {
    int64_t id = 0;
    int64_t task_id = 0;
    std::string source;  // mtrace | gold | prefx | beam | run
    std::optional<int64_t> run_id;
    std::optional<std::string> final_answer;
    int n_steps = 0;
    std::optional<std::string> extra;  // JSON text
    std::vector<Step> steps;           // filled by get(id, true) / insert input
};

// The observation turn a step stands for: core/conversation/steps.h (observation_turn).
// The tasks.tools value for these steps: distinct tool names, sorted, space separated.
std::string tools_of(const std::vector<Step>& steps);

struct TrajectoryInsertOptions {
    // The task's full-text row is updated when this trajectory becomes its primary one (first non-run
    // trajectory). false: the caller inserted the task with index_fts=false, so only insert the new row.
    bool task_fts_indexed = true;
    bool refresh_task_counters = true;  // update tasks.n_steps / tools
    // Importer fast path: the task was inserted just now (it has no trajectory yet) with this query text;
    // saves two lookups per record.
    std::optional<std::string> new_task_query;
};

class TrajectoryRepo {
public:
    explicit TrajectoryRepo(Database& db) : m_db(db) {}

    // Inserts the trajectory with its steps, tool calls and candidates (ids in `t` are ignored); returns its id.
    // n_steps is taken from t.steps.size(). Call inside a Transaction when inserting many.
    Result<int64_t> insert(const Trajectory& t, const TrajectoryInsertOptions& options = {});
    // Appends steps (their idx as given) to an existing trajectory, updating n_steps, and when it is the
    // task's primary trajectory also tasks.n_steps / tools and the full-text row. Call inside a Transaction.
    Status append_steps(int64_t trajectory_id, const std::vector<Step>& steps);
    // Trajectories of a task, without steps, by id (the primary one first when it exists).
    Result<std::vector<Trajectory>> list_for_task(int64_t task_id);
    // One trajectory; with_steps loads steps, tool calls and candidates.
    Result<std::optional<Trajectory>> get(int64_t id, bool with_steps = true);
    // The task's primary trajectory with steps (first not produced by a run), nullopt when none.
    Result<std::optional<Trajectory>> primary_for_task(int64_t task_id);
    // Trajectories a run produced, without steps, by id.
    Result<std::vector<Trajectory>> list_for_run(int64_t run_id);
    // Records how a run's trajectory ended: its final answer (nullopt: none) and extra JSON.
    Status set_outcome(int64_t id, const std::optional<std::string>& final_answer, const std::string& extra_json);

private:
    Database& m_db;
};

}  // namespace matrix::store
