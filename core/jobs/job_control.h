// Launching and steering jobs (job_repo.h): a job is created in the store and either started here, detached (its
// supervisor in its own session with its own log file, so it survives the program that launched it: the GUI, a
// shell) or submitted to Slurm (slurm.h). Pause/resume stop and continue the job's process group (SIGSTOP/SIGCONT;
// on Slurm `scontrol suspend|resume`); cancel asks the supervisor to stop (SIGTERM; it records the job cancelled and
// SIGKILLs the command after the grace period; on Slurm `scancel`). refresh_job checks that a job the store thinks
// alive still is: a local process that is gone (or whose pid now belongs to another process) without recording its
// end is marked failed with the log's tail; a Slurm job takes the scheduler's state.
// Thread safety: free functions over the caller's Database (one connection per thread, store/project.h).
#pragma once

#include <string>
#include <vector>

#include "core/jobs/job_repo.h"
#include "core/util/result.h"

namespace matrix::jobs {

struct JobRequest {
    std::string kind;                // train | eval | sample | synth
    std::vector<std::string> argv;   // after `matrix`: {"train", "sft", "--db", ...}
    std::string db_path;             // the project the job's command writes to (its row goes there too)
    std::string binary;              // the `matrix` program (default: this process's executable)
    std::string cwd;                 // default: the current directory
    std::string log_path;            // default: default_job_log(db_path, id)
    bool slurm = false;
    SlurmOptions slurm_options;
    int grace_s = 20;
};

// <project>.runs/jobs/job-<id>.log beside the project file.
std::string default_job_log(const std::string& db_path, int64_t job_id);

// Creates the job's row and starts it (locally) or submits it (Slurm). The row is returned as stored after that.
Result<Job> submit_job(store::Database& db, const JobRequest& request);
// Starts a created local job: `binary jobs supervise --db db_path --job ID` detached (setsid, stdin /dev/null,
// stdout and stderr appended to the job's log). Records the supervisor's pid and start time.
Status launch_local(store::Database& db, int64_t job_id, const std::string& db_path, const std::string& binary,
                    int grace_s = 20);

Status pause_job(store::Database& db, int64_t job_id);
Status resume_job(store::Database& db, int64_t job_id);
Status cancel_job(store::Database& db, int64_t job_id);

// Liveness / scheduler check of one job (see above); returns the row as it is after the check.
Result<Job> refresh_job(store::Database& db, int64_t job_id);
// refresh_job on every unfinished job; errors of single jobs (Slurm unreachable) are collected, not fatal.
Result<std::vector<Job>> refresh_jobs(store::Database& db, std::vector<std::string>* problems = nullptr);

}  // namespace matrix::jobs
