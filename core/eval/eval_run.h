// Evaluation runs launched by the workbench (`matrix eval run`, the GUI's Evaluate dock): a stored benchmark
// (`matrix bench load`) + a controller + tools + prompts + sampling + seed + mode, run item by item into the
// same runs tables the compare view reads (runs kind 'eval', one run_results row per item), then scored with
// the official scorer and, for GTA, MATRIX's lenient one.
//  - mode "step" (GTA only): every gold assistant turn predicted from the gold prefix (gta_step.h);
//  - mode "e2e": the agent (run_task, core/agent/agent_run.h) with tools on each item; every item keeps a row:
//    crashes, timeouts and unanswered items count as wrong, with the reason in run_results.error.
// Provenance in runs.config: the settings, the controller's description, the training run that made the
// adapter (with the dataset and how many samples it saw), the tools with their backends, the prompts, sampling,
// seed, mode and the fixed list of items. Items run concurrently on `workers` threads, each with its own
// connection to the project file (the store is one connection per thread); a local model answers one request at
// a time (one GPU queue), endpoint controllers are one per worker (N requests in flight).
// Resume: items with a finished row are never redone; an item cut short carries on from its stored steps.
// Thread safety: run_eval owns its threads; callbacks (EvalEvents) are called from worker threads, serialised.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/agent_run.h"
#include "core/agent/controller.h"
#include "core/eval/benchmark.h"
#include "core/eval/judge.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/util/result.h"

namespace matrix::eval {

struct EvalSettings {
    std::string name;
    eval::BenchKind benchmark = eval::BenchKind::gta;
    std::string dataset;   // the benchmark's dataset name in the project; empty: the first of the kind
    std::string mode = "step";  // "step" | "e2e"
    // {"kind": "gold" | "perturbed"} (step mode), {"kind": "local", "model", "adapter", ...} or
    // {"kind": "endpoint", "url", "model"} (see core/agent/controller_factory.h).
    nlohmann::json controller = nlohmann::json::object();
    std::vector<std::string> tools;      // e2e: the tools offered (empty: all)
    std::string system_prompt = "auto";  // e2e: as agent runs (auto|dataset|bundled|file:PATH); step: "gta"
    agent::LoopSettings loop;            // steps, errors, generation (sampling, seed, max tokens)
    agent::SandboxOptions sandbox;       // e2e; work_dir: the run's folder
    int limit = 0;                       // first N items (0: all)
    int workers = 1;
    double item_timeout_s = 600;         // e2e: wall clock per item, then it counts as wrong ("timeout")
    // Agent-X: the LLM judge asked for the judge metrics once every item has its row (judge_run.h); empty
    // endpoint: none (toolset F1 only). The API key is never stored: only the environment variable that holds it.
    std::string judge_url, judge_model, judge_key_env;
    int judge_timeout_ms = 60000;

    nlohmann::json to_json() const;
    static Result<EvalSettings> from_json(const nlohmann::json& j);
};

// The judge of an Agent-X run's settings, its API key read from the named environment variable (an error when
// that variable is not set).
Result<JudgeConfig> judge_config_of(const EvalSettings& s);

// Whether the controller is answered without a model ("gold", "perturbed": step mode's harness checks).
bool is_replay_controller(const nlohmann::json& controller);

// Makes a controller for a worker. `shared`: one for all workers, serialised (a local model: one GPU queue);
// otherwise one per worker (endpoints).
struct ControllerSource {
    std::function<Result<std::unique_ptr<agent::Controller>>()> make;
    bool shared = true;
};

// The training run (sft/dpo) whose output the adapter folder is (its out_dir, a checkpoint in it), if any.
Result<std::optional<store::Run>> training_run_for_adapter(store::Database& db, const std::string& adapter_dir);

// Creates the eval run (status "created") with its provenance and its fixed item list; the work folder
// (e2e) is <work_root>/run-<id>. Returns the run id.
Result<int64_t> create_eval_run(store::Project& project, EvalSettings& settings, const std::string& controller_description,
                                const std::string& work_root);

// The settings an eval run was created with.
Result<EvalSettings> load_eval_settings(store::Database& db, int64_t run_id);

struct EvalProgress {
    int done = 0, total = 0;       // items with a finished row / items of the run
    int correct = 0, scored = 0;   // live accuracy so far (step: ArgAcc steps; e2e: official answer check)
    double elapsed_s = 0;          // this session
    double eta_s = -1;             // remaining, from this session's pace; -1 when unknown
    std::string item;              // the item just finished
    std::string outcome;           // "ok", "wrong", "timeout", "crashed: ...", ...
};

struct EvalEvents {
    std::function<void(const EvalProgress&)> on_item_done;
    std::function<void(const std::string& item, const store::Step& step)> on_step;  // e2e steps as stored
    std::function<void(const std::string& note)> on_note;
};

struct EvalOutcome {
    std::string status;  // "finished" | "cancelled" | "paused"
    int n_items = 0, n_done = 0, n_redone = 0;
    nlohmann::json metrics = nlohmann::json::object();  // scorer -> metrics
    int judge_requests = 0, judge_failed = 0;  // Agent-X with a judge: verdicts asked for, and failed (not stored)
    std::string judge_first_error;
};

// Runs (or resumes) the run's unfinished items, then scores the run when every item has its row. `pause`:
// like cancel but the run's status becomes "paused" (both are resumed the same way).
Result<EvalOutcome> run_eval(const std::string& db_path, int64_t run_id, const ControllerSource& controllers,
                             const EvalEvents& events = {}, const std::atomic<bool>* cancel = nullptr,
                             const std::atomic<bool>* pause = nullptr);

// What a front end needs to show, reattach to or resume the runs `matrix eval` launched: newest first.
struct EvalRunStatus {
    int64_t run_id = 0;
    std::string name, status, mode, benchmark;
    int done = 0, total = 0;
    std::optional<double> accuracy;  // live accuracy so far (percent), when anything was scored
    int64_t pid = 0;                 // the process that last ran it (0: never started)
    bool process_alive = false;      // that process still runs `matrix eval` (a window can reattach to it)
    // The item the run works on now (end-to-end runs store each item's steps as they happen): its newest
    // trajectory, the task it belongs to and how many steps are stored so far (0s when none yet).
    int64_t current_task_id = 0, current_trajectory_id = 0;
    int current_steps = 0;
};
Result<std::vector<EvalRunStatus>> eval_run_statuses(store::Database& db);

}  // namespace matrix::eval
