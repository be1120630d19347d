// The Slurm backend for jobs: the sbatch script (resources, the job's log as its output, the exact `matrix` command
// as a comment and run by `matrix jobs supervise` so the job records itself as a local one does), submission with
// `sbatch --parsable`, the scheduler's view of the job (squeue while Slurm remembers it, sacct after), scancel.
// Slurm's commands read SLURM_CONF like any client. Thread safety: free functions, each runs Slurm's programs.
#pragma once

#include <string>

#include "core/jobs/job_repo.h"
#include "core/util/result.h"

namespace matrix::jobs {

// The batch script for `job` (its log_path, cwd and slurm options), running `binary jobs supervise --db db_path
// --job ID`. More than one task (nodes x GPUs per node) adds `--srun` and the MASTER_ADDR / MASTER_PORT of the
// torchrun environment (the first node of the allocation).
std::string sbatch_script(const Job& job, const std::string& db_path, const std::string& binary, int grace_s = 20);

// Writes the script beside the job's log (<log>.sbatch), submits it, records the Slurm id; returns it.
Result<std::string> submit_to_slurm(store::Database& db, int64_t job_id, const std::string& db_path,
                                    const std::string& binary, int grace_s = 20);

struct SlurmState {
    std::string slurm;  // Slurm's word: PENDING, RUNNING, COMPLETED, CANCELLED, FAILED ... ("" when unknown)
    std::string state;  // ours: queued | running | paused | finished | failed | cancelled ("" when unknown)
    std::string exit_code;  // sacct's "0:0" form (exit status:signal) when known
    std::string source;     // who answered: "squeue" (the controller still holds the job) or "sacct" (accounting)
};
// Asks squeue, then sacct once squeue no longer knows the job (slurmctld purges a finished job MinJobAge seconds
// after its end; accounting keeps it). An Error when Slurm could not be asked (controller down, command missing):
// never taken for the job's state. A job neither knows any more (accounting off) comes back with empty fields.
// One line for people: "COMPLETED, exit code 0:0 (sacct)", "RUNNING (squeue)", or why there is none.
Result<SlurmState> query_slurm_state(const std::string& slurm_job_id);
std::string slurm_to_state(const std::string& slurm_word);
std::string describe_slurm_state(const SlurmState& s);

Status slurm_cancel(const std::string& slurm_job_id);
Status slurm_suspend(const std::string& slurm_job_id, bool suspend);  // scontrol suspend|resume (operators only)

}  // namespace matrix::jobs
