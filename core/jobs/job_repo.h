// Jobs: `matrix train|eval|sample|synth` processes that run outside the window that started them, launched detached on
// this machine (local_launcher.h) or submitted to Slurm (slurm.h). One row per job in the project's `jobs` table
// (migration 10): the exact argv, where and as which process it runs (host, pid and the pid's start time, so a
// reused pid is never taken for the job's), its log file, state, exit code, reason, Slurm id and the run it made.
// Thread safety: a JobRepo uses the caller's Database; one connection per thread (store/project.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"
#include "core/util/result.h"

namespace matrix::jobs {

// Slurm resources of a submitted job (sbatch options); empty strings / zeros leave Slurm's defaults.
struct SlurmOptions {
    int nodes = 1;
    int gpus_per_node = 0;
    int cpus_per_task = 0;
    std::string time;       // sbatch --time (e.g. "02:00:00")
    std::string partition;
    std::string account;
    std::string to_json() const;
    static Result<SlurmOptions> from_json(const std::string& text);
};

struct Job {
    int64_t id = 0;
    std::string kind;                 // train | eval | sample | synth
    std::vector<std::string> argv;    // the arguments after `matrix` ("train", "sft", "--db", ...)
    std::string cwd;
    std::string backend = "local";    // local | slurm
    std::string host;
    int64_t pid = 0;
    int64_t pid_start = 0;
    std::string log_path;
    std::string state = "queued";     // queued | running | paused | finished | failed | cancelled
    std::optional<int> exit_code;
    std::string reason;
    bool cancel_requested = false;
    std::string slurm_job_id;
    SlurmOptions slurm;
    std::optional<int64_t> run_id;
    std::string created_at, started_at, finished_at, updated_at;

    bool is_final() const { return state == "finished" || state == "failed" || state == "cancelled"; }
    std::string command_line() const;  // "matrix train sft --db ..." with shell quoting where needed
};

bool is_final_state(const std::string& state);

class JobRepo {
public:
    explicit JobRepo(store::Database& db) : m_db(db) {}

    Result<int64_t> create(const Job& job);           // id, created_at, updated_at are set by the store
    Result<std::optional<Job>> get(int64_t id);
    Result<std::vector<Job>> list(bool unfinished_only = false);  // newest first
    // The process that runs the job (supervisor): state running, host, pid, its start time, started_at.
    Status set_started(int64_t id, const std::string& host, int64_t pid, int64_t pid_start);
    // A state change; a final state sets finished_at, exit code and reason (an empty reason keeps the old one).
    Status set_state(int64_t id, const std::string& state, std::optional<int> exit_code = std::nullopt,
                     const std::string& reason = {});
    // Moves a job to a final state only if it is not final yet (the first writer wins: the job itself or a monitor).
    Result<bool> finish_if_unfinished(int64_t id, const std::string& state, std::optional<int> exit_code,
                                      const std::string& reason);
    Status set_cancel_requested(int64_t id);
    Status set_run(int64_t id, int64_t run_id);
    Status set_slurm_job_id(int64_t id, const std::string& slurm_job_id);
    Status set_log_path(int64_t id, const std::string& path);

private:
    store::Database& m_db;
};

}  // namespace matrix::jobs
