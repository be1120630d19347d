// The process that runs one job: `matrix jobs supervise --db P --job N` (started by local_launcher.h in its own
// session, or by the sbatch script on a Slurm node). It records itself in the job row (host, pid, start time),
// runs the job's `matrix` command as its child with the same log file (MATRIX_JOB_ID and MATRIX_JOB_DB in its
// environment: the run the command creates is linked to the job as it is created, store::RunRepo::create), follows
// the log for the run id the command prints (commands that name an existing run, or older ones), and when the child
// ends records the job's end: finished (exit 0), cancelled (it was asked to stop:
// SIGTERM/SIGINT, forwarded to the child, which gets SIGKILL after the grace period) or failed with the exit
// status or signal and the log's tail. A stop request is heard from the supervisor's first instruction on (the local
// launcher starts it with SIGTERM / SIGINT blocked, so one sent while it loads waits); one that comes before the
// command started ends the job cancelled without starting it. A job whose supervisor itself dies is found by the
// monitor (job_control.h).
// Thread safety: supervise_job installs signal handlers and blocks: call it only from a process's main thread.
#pragma once

#include <cstdint>
#include <string>

namespace matrix::jobs {

struct SuperviseOptions {
    std::string binary;   // the `matrix` program to run (default: this process's executable)
    int grace_s = 20;     // after a cancel, SIGKILL the command when it has not ended within this time
    bool srun = false;    // Slurm with more than one task: run the command once per task with `srun`, each with
                          // the torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK; MASTER_* from the script)
};

// Returns the supervisor's exit code: the command's (0 finished, 130 cancelled, 1 failed to start).
int supervise_job(const std::string& db_path, int64_t job_id, const SuperviseOptions& options);

// The run id a job's log names ("[run 12, ...", "[resuming run 12]", "run 12 finished"), or 0.
int64_t run_id_in_log(const std::string& text);

}  // namespace matrix::jobs
