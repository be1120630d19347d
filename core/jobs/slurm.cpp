// Slurm backend (see slurm.h).
#include "core/jobs/slurm.h"

#include <fstream>
#include <sstream>

#include "core/jobs/process.h"

namespace matrix::jobs {

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    size_t i = 0;
    while (i < s.size() && s[i] == ' ') ++i;
    return s.substr(i);
}

std::string first_line(const std::string& s) { return trim(s.substr(0, s.find('\n'))); }

}  // namespace

std::string sbatch_script(const Job& job, const std::string& db_path, const std::string& binary, int grace_s) {
    const SlurmOptions& o = job.slurm;
    const int nodes = std::max(1, o.nodes);
    const int tasks_per_node = std::max(1, o.gpus_per_node);
    const bool multi = nodes * tasks_per_node > 1;
    std::ostringstream s;
    s << "#!/bin/sh\n";
    s << "#SBATCH --job-name=matrix-" << job.kind << "-" << job.id << "\n";
    s << "#SBATCH --output=" << job.log_path << "\n";
    s << "#SBATCH --open-mode=append\n";
    if (!job.cwd.empty()) s << "#SBATCH --chdir=" << job.cwd << "\n";
    s << "#SBATCH --nodes=" << nodes << "\n";
    s << "#SBATCH --ntasks-per-node=" << tasks_per_node << "\n";
    if (o.gpus_per_node > 0) s << "#SBATCH --gpus-per-node=" << o.gpus_per_node << "\n";
    if (o.cpus_per_task > 0) s << "#SBATCH --cpus-per-task=" << o.cpus_per_task << "\n";
    if (!o.time.empty()) s << "#SBATCH --time=" << o.time << "\n";
    if (!o.partition.empty()) s << "#SBATCH --partition=" << o.partition << "\n";
    if (!o.account.empty()) s << "#SBATCH --account=" << o.account << "\n";
    s << "# MATRIX Workbench job " << job.id << " (" << job.kind << "), written for project " << db_path << "\n";
    s << "# command: " << job.command_line() << "\n";
    if (multi) {
        s << "# torchrun environment: the first node of the allocation is the rendezvous\n";
        s << "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n";
        s << "export MASTER_PORT=$((29500 + SLURM_JOB_ID % 1000))\n";
    }
    s << "exec " << shell_quote(binary) << " jobs supervise --db " << shell_quote(db_path) << " --job " << job.id
      << " --grace " << grace_s << (multi ? " --srun" : "") << "\n";
    return s.str();
}

Result<std::string> submit_to_slurm(store::Database& db, int64_t job_id, const std::string& db_path,
                                    const std::string& binary, int grace_s) {
    JobRepo repo(db);
    MATRIX_TRY(auto job, repo.get(job_id));
    if (!job) return make_error("no job " + std::to_string(job_id));
    const std::string script_path = job->log_path + ".sbatch";
    {
        std::ofstream f(script_path);
        f << sbatch_script(*job, db_path, binary, grace_s);
        if (!f) return make_error("cannot write the batch script", script_path);
    }
    MATRIX_TRY(Captured c, run_capture({"sbatch", "--parsable", script_path}, 60));
    if (c.exit_code != 0) {
        const std::string why = first_line(c.err.empty() ? c.out : c.err);
        (void)repo.finish_if_unfinished(job_id, "failed", c.exit_code, "sbatch refused the job: " + why);
        return make_error("sbatch refused the job: " + why, script_path);
    }
    std::string id = first_line(c.out);
    id = id.substr(0, id.find(';'));  // "123;cluster" on multi-cluster set-ups
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        return make_error("sbatch --parsable printed no job id ('" + first_line(c.out) + "')", script_path);
    MATRIX_CHECK(repo.set_slurm_job_id(job_id, id));
    return id;
}

std::string slurm_to_state(const std::string& w) {
    auto starts = [&](const char* p) { return w.rfind(p, 0) == 0; };
    if (starts("PENDING") || starts("CONFIGURING") || starts("REQUEUED") || starts("RESV_DEL_HOLD")) return "queued";
    if (starts("RUNNING") || starts("COMPLETING") || starts("STAGE_OUT") || starts("SIGNALING") || starts("RESIZING"))
        return "running";
    if (starts("SUSPENDED") || starts("STOPPED")) return "paused";
    if (starts("COMPLETED")) return "finished";
    if (starts("CANCELLED")) return "cancelled";
    if (starts("FAILED") || starts("TIMEOUT") || starts("NODE_FAIL") || starts("OUT_OF_ME") || starts("BOOT_FAIL") ||
        starts("DEADLINE") || starts("PREEMPTED") || starts("REVOKED"))
        return "failed";
    return "";
}

Result<SlurmState> query_slurm_state(const std::string& id) {
    SlurmState out;
    MATRIX_TRY(Captured q, run_capture({"squeue", "-h", "-j", id, "-t", "all", "-o", "%T"}, 30));
    if (q.exit_code == 0 && !first_line(q.out).empty()) {
        out.slurm = first_line(q.out);
        out.state = slurm_to_state(out.slurm);
        out.source = "squeue";
        return out;
    }
    const bool unknown_to_squeue = q.exit_code == 0 || q.err.find("Invalid job id") != std::string::npos;
    if (!unknown_to_squeue) return make_error("squeue: " + first_line(q.err), "slurm job " + id);
    auto a = run_capture({"sacct", "-n", "-X", "-P", "-j", id, "-o", "State,ExitCode"}, 30);
    if (a.ok() && a->exit_code == 0 && !first_line(a->out).empty()) {
        const std::string line = first_line(a->out);
        out.slurm = line.substr(0, line.find('|'));
        out.slurm = out.slurm.substr(0, out.slurm.find(' '));  // "CANCELLED by 0"
        if (line.find('|') != std::string::npos) out.exit_code = line.substr(line.find('|') + 1);
        out.state = slurm_to_state(out.slurm);
        out.source = "sacct";
    }
    return out;  // forgotten by squeue and not in accounting (or accounting disabled)
}

std::string describe_slurm_state(const SlurmState& s) {
    if (s.slurm.empty()) return "unknown to squeue and sacct (purged, and no accounting)";
    std::string out = s.slurm;
    if (!s.exit_code.empty()) out += ", exit code " + s.exit_code;
    return out + " (" + s.source + ")";
}

Status slurm_cancel(const std::string& id) {
    MATRIX_TRY(Captured c, run_capture({"scancel", id}, 30));
    if (c.exit_code != 0) return make_error("scancel: " + first_line(c.err), "slurm job " + id);
    return {};
}

Status slurm_suspend(const std::string& id, bool suspend) {
    MATRIX_TRY(Captured c, run_capture({"scontrol", suspend ? "suspend" : "resume", id}, 30));
    if (c.exit_code != 0) return make_error("scontrol " + std::string(suspend ? "suspend" : "resume") + ": " +
                                                first_line(c.err), "slurm job " + id);
    return {};
}

}  // namespace matrix::jobs
