// Step-wise Pref-X sampling (as the MATRIX reference samples preference pairs): for each task, roll out the controller;
// at every step generate K candidate actions in one batch (1 at T 0.7 with repetition penalty 1.05, K-1 at
// T 1.2; top_p 0.8, top_k 100, 512 tokens), run each from its own fork of the sandbox state (Sandbox::explore),
// let the verifier pick the best, continue from the chosen fork (Sandbox::choose). Each step is stored as it
// happens, in one transaction with its pairs: the step record (the chosen action as a step of the task's
// trajectory, every candidate with its observation in step_candidates, the verifier's reason), and the pairs cut
// from it by MATRIX's rules (formats/prefx_selection.h) with origin "sampled", linked to the run and the step
// (store/sampled_pair_repo.h). Each task's records are also written as beam_search_data.json (byte for byte as
// the reference's json.dump(indent=4, ensure_ascii=False)) under <run folder>/beam/<task>/.
// A verifier failure (no JSON, id out of range, endpoint error) is logged and the step dropped: the task's
// rollout ends there, its earlier steps and pairs kept. Tasks whose observations show server errors are
// skipped (their pairs removed). Seeds are derived per task and step (step_seed), so a run killed at any point
// and resumed (its tasks' stored steps replayed into a fresh sandbox) ends with the same pairs as one that ran
// through. Not copied from the reference: the chosen candidate in its own reject pool, the image order
// scrambled by a set, a failed verifier silently choosing candidate 0.
// Thread safety: like Database (a job runs on the thread that owns its connection; with workers > 1 each worker
// opens its own connection to the same file). Callbacks run on the thread that stored the step.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/agent/agent_run.h"
#include "core/agent/controller.h"
#include "core/agent/step_verifier.h"
#include "core/agent/tool.h"
#include "core/formats/prefx_selection.h"
#include "core/store/database.h"

namespace matrix::agent {

struct SamplingSettings {
    // controller, tools, system prompt, limits (max_steps 8, max_errors 5), generation (groups, seed, 512 tokens),
    // sandbox (work_dir = the run's folder), task_ids.
    AgentRunSettings agent;
    // {"kind": "endpoint", "url", "model", "api_key_env"} | {"kind": "local", "model", "adapter"} |
    // {"kind": "controller"}: the controller's own model answers with our verifier prompt.
    nlohmann::json verifier = {{"kind", "controller"}};
    std::string dataset;        // the tasks' dataset (for the record)
    std::string pairs_dataset;  // the Pref-X dataset the pairs go to (kind prefx); default "<dataset>-sampled"
    formats::SelectionRules rules;
    int verifier_max_new_tokens = 512;
    int workers = 1;

    int k() const;
    nlohmann::json to_json() const;
    static Result<SamplingSettings> from_json(const nlohmann::json& j);
};

// Settings with the reference's sampling: K candidates as the two groups, limits 8 steps / 5 errors.
SamplingSettings default_sampling_settings(int k = 5);
// Sets K: group 1 keeps its single candidate, group 2 gets K-1 (dropped for K = 1).
void set_candidate_count(SamplingSettings& s, int k);
// Applies one "key=value" of `matrix sample --set` (and the GUI): max_steps, max_errors, max_new_tokens, seed,
// k, temperature (first group), temperature_rest, repetition_penalty, repetition_penalty_rest, top_p, top_k,
// bleu_threshold, max_error_rejects, verifier_max_new_tokens, system_prompt, step_timeout_s, isolation, work_dir,
// dtype, device, api_key_env, pairs_dataset, workers, max_output_chars.
Status apply_sampling_setting(SamplingSettings& s, const std::string& key, const std::string& value);

// The seed of step `step` of a task: a mix of the run's seed, the task id and the step (splitmix64), so every
// step's candidates are reproducible on their own.
uint64_t step_seed(uint64_t run_seed, int64_t task_id, int step);

// Creates the run row (kind "sample", status "created") with the settings, the tools' status and the controller's
// and verifier's descriptions, gives it its folder <work_root>/run-<id> (written back into settings).
Result<int64_t> create_sampling_run(store::Database& db, SamplingSettings& settings, const ToolRegistry& tools,
                                    const std::string& controller_description, const std::string& verifier_description,
                                    const std::string& work_root);
Result<SamplingSettings> load_sampling_settings(store::Database& db, int64_t run_id);

// The task ids of a dataset, in order (at most `limit` when > 0).
Result<std::vector<int64_t>> dataset_task_ids(store::Database& db, const std::string& dataset, int64_t limit = -1);

struct TaskSampleOutcome {
    int64_t trajectory_id = 0;
    std::string status;       // "finished", "skipped" (server error), "cancelled"
    std::string stop_reason;  // "final_answer", "max_steps", "max_errors", "verifier_failed", "server_error", "cancelled"
    std::string final_answer; // when the chosen path answered
    int steps = 0, errors = 0, pairs = 0;
    std::vector<std::string> dropped;  // why steps were dropped (verifier failures)
    bool already_finished = false;
    int resumed_steps = 0;
};

struct SamplingEvents {
    std::function<void(int64_t task_id)> on_task_start;
    // After each stored step: the step (with candidates) and the pairs cut from it.
    std::function<void(int64_t task_id, const store::Step& step, int pairs)> on_step;
    std::function<void(int64_t task_id, const std::string& note)> on_note;
    std::function<void(int64_t task_id, const TaskSampleOutcome& outcome)> on_task_done;
    // Tasks done (finished earlier included) of total; seconds left, estimated from this session's pace (-1: unknown).
    std::function<void(int64_t done, int64_t total, double eta_s)> on_progress;
};

// Samples (or resumes) one task of the run. Thread safety: `controller` and `verifier` are called from this
// thread; the job serialises them between workers unless they are thread-safe.
Result<TaskSampleOutcome> sample_task(store::Database& db, int64_t run_id, int64_t task_id, Controller& controller,
                                      StepVerifier& verifier, const ToolRegistry& tools, const SamplingSettings& settings,
                                      const SamplingEvents& events = {}, const std::atomic<bool>* cancel = nullptr);

struct SamplingJobOutcome {
    std::string status;  // "finished" or "cancelled"
    std::vector<std::pair<int64_t, TaskSampleOutcome>> tasks;  // in the settings' task order
    int64_t pairs = 0;   // the run's pairs in the store
};

// Runs (or resumes) every task of the run; tasks finished earlier come back as stored, unfinished ones carry on
// from their stored steps. With settings.workers > 1, tasks run on that many threads, each with its own
// connection to db.path(); `thread_safe_models` says whether controller and verifier may be called at once
// (endpoints), else calls are serialised. The run's status: running, then finished / cancelled / failed.
Result<SamplingJobOutcome> run_sampling_job(store::Database& db, int64_t run_id, const SamplingSettings& settings,
                                            Controller& controller, StepVerifier& verifier, const ToolRegistry& tools,
                                            const SamplingEvents& events = {}, const std::atomic<bool>* cancel = nullptr,
                                            bool thread_safe_models = false);

// beam_search_data.json of a sampled trajectory (the reference's sampling output) as the reference writes it:
// json.dump(list, indent=4, ensure_ascii=False), no trailing newline.
Result<std::string> beam_record_text(store::Database& db, int64_t trajectory_id);
// Writes it (atomically) to <folder>/beam_search_data.json, creating the folder.
Status write_beam_record(store::Database& db, int64_t trajectory_id, const std::string& folder);
// The folder of a task's record in a run: <run work_dir>/beam/<task key, or task-<id> when the key is not a
// plain file name>.
std::string beam_task_folder(const SamplingSettings& settings, int64_t task_id, const std::string& task_key);

}  // namespace matrix::agent
