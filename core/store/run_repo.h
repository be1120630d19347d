// Runs: a training (sft, dpo), evaluation or import job as a row, with its config, status and timings, log,
// metric series (run, name, step) -> value, checkpoints, the dataset snapshot it used and per-task results.
// Workers append metrics while the GUI reads them on its own connection (WAL).
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

// The lock a training process holds on its output folder while it runs (core/util/file_lock.h).
std::string training_run_lock_path(const std::string& out_dir);

struct Run {
    int64_t id = 0;
    std::string kind;  // sft | dpo | eval | import | agent
    std::string name;
    std::string status = "created";  // created | running | paused | finished | failed | cancelled
    std::string config = "{}";       // JSON text
    std::optional<int64_t> dataset_id;
    std::optional<std::string> benchmark;  // gta | gaia | agentx
    std::optional<std::string> model_path, adapter_path;
    std::optional<int64_t> parent_run_id;
    std::string created_at;
    std::optional<std::string> started_at, finished_at, error;
    std::string log;
    std::string summary = "{}";  // JSON text
};

struct MetricPoint {
    int64_t step = 0;
    double value = 0;
};

struct Checkpoint {
    int64_t id = 0;
    int64_t run_id = 0;
    int64_t step = 0;
    std::string path;
    std::optional<std::string> sha256;
    std::optional<std::string> extra;  // JSON text
    std::string created_at;
};

struct RunSample {
    std::string item_kind;  // task | pair | trajectory
    int64_t item_id = 0;
    std::string content_hash;
};

struct RunResult {
    int64_t id = 0;
    int64_t run_id = 0;
    std::optional<int64_t> task_id;
    std::string task_key;  // the benchmark's own id
    std::optional<std::string> answer;
    std::string scores = "{}";  // JSON text
    std::optional<int64_t> trajectory_id;
    std::optional<std::string> error;
    std::optional<std::string> extra;
};

class RunRepo {
public:
    explicit RunRepo(Database& db) : m_db(db) {}

    // Inserts the run. In a process that runs as a job (the job supervisor, core/jobs/supervisor.h, sets
    // MATRIX_JOB_ID and MATRIX_JOB_DB in its command's environment) writing to that job's project, the job's row
    // gets the new run's id in the same transaction (when it has none yet): the link exists before any rank of the
    // run reports, so a job paused at once still shows its run's ranks as paused, not lost.
    Result<int64_t> create(const Run& r);
    Result<std::optional<Run>> get(int64_t id);
    Result<std::vector<Run>> list(const std::optional<std::string>& kind = std::nullopt);  // newest first
    Result<std::vector<int64_t>> ids(const std::string& kind);  // the ids of one kind's runs, highest first
    // Sets status; "running" also sets started_at (first time) and clears an old error (a resumed run), a final
    // status sets finished_at; otherwise the error is kept unless a new one is given.
    Status set_status(int64_t id, const std::string& status, const std::optional<std::string>& error = std::nullopt);
    Status append_log(int64_t id, const std::string& text);  // appended verbatim (add '\n' yourself)
    Status set_summary(int64_t id, const std::string& summary_json);
    Status set_config(int64_t id, const std::string& config_json);
    Status set_paths(int64_t id, const std::optional<std::string>& model_path,
                     const std::optional<std::string>& adapter_path);

    // Metrics: one value per (run, name, step); writing the same point again replaces it.
    Status append_metric(int64_t run_id, const std::string& name, int64_t step, double value);
    Status append_metrics(int64_t run_id, int64_t step, const std::vector<std::pair<std::string, double>>& values);
    Result<std::vector<std::string>> metric_names(int64_t run_id);
    Result<std::vector<MetricPoint>> metric_series(int64_t run_id, const std::string& name, int64_t after_step = -1);

    Result<int64_t> add_checkpoint(const Checkpoint& c);
    Result<std::vector<Checkpoint>> checkpoints(int64_t run_id);  // by step
    Result<std::optional<Checkpoint>> latest_checkpoint(int64_t run_id);
    // Training runs still marked "running" whose trainer process is gone (killed, crashed, machine rebooted: its
    // lock, training_run_lock_path(out_dir), is free) become "failed" with an error saying so and how to resume.
    // Returns the ids marked. Called when a project is opened by the GUI and before training starts.
    Result<std::vector<int64_t>> mark_interrupted_runs();
    // Deletes the run's checkpoint rows (and their provenance links) whose folder no longer exists (pruned by
    // keep_checkpoints, or removed by hand); returns how many.
    Result<int> prune_missing_checkpoints(int64_t run_id);

    Status add_samples(int64_t run_id, const std::vector<RunSample>& samples);  // one transaction
    Result<std::vector<RunSample>> samples(int64_t run_id);

    // Inserts or replaces the result for (run, task_key).
    Result<int64_t> put_result(const RunResult& r);
    Result<std::vector<RunResult>> results(int64_t run_id);  // by id

private:
    Database& m_db;
};

}  // namespace matrix::store
