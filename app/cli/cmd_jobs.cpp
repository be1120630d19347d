// `matrix jobs`: the project's jobs (core/jobs): list, show, log, pause, resume, cancel; `supervise` is the process
// a job runs as (started by the launcher or the sbatch script, not by hand). Also `matrix <kind> submit`
// (job_submit.h), which creates a job from a train / eval / sample command line and starts or submits it.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <set>
#include <thread>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/job_submit.h"
#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/jobs/slurm.h"
#include "core/jobs/supervisor.h"
#include "core/store/project.h"

namespace {

using namespace matrix;

const char* kUsage =
    "usage: matrix jobs list --db FILE [--all]\n"
    "       matrix jobs show --db FILE ID\n"
    "       matrix jobs log --db FILE ID [--tail N]\n"
    "       matrix jobs pause|resume --db FILE ID\n"
    "       matrix jobs cancel --db FILE ID [--wait SECONDS]\n"
    "       matrix jobs wait --db FILE ID [--timeout SECONDS]\n"
    "  Jobs are `matrix train|eval|sample|synth` commands started with `matrix <kind> submit [--slurm ...] <args>`:\n"
    "  each runs as its own process (detached from the shell or window, with its own log) or as a Slurm job.\n"
    "  list checks every unfinished job first: a process that died without recording its end is marked failed\n"
    "  with its log's tail; a Slurm job takes squeue/sacct's state. pause/resume stop and continue the job\n"
    "  (SIGSTOP/SIGCONT; scontrol suspend/resume on Slurm); cancel asks it to stop (SIGTERM, SIGKILL after the\n"
    "  grace period; scancel on Slurm): a training run checkpoints and stays resumable.\n"
    "  wait: until the job ends; exit 0 when it finished, 1 otherwise.\n";

const char* kSubmitUsage =
    "usage: matrix train|eval|sample|synth submit [--slurm [--nodes N] [--gpus-per-node G] [--cpus-per-task C]\n"
    "                                        [--time T] [--partition P] [--account A]] [--log FILE] [--grace S]\n"
    "                                        [--wait] <the command's own arguments, with --db FILE>\n"
    "  Runs `matrix train|eval|sample|synth <args>` as a job: detached on this machine (it survives the shell that\n"
    "  started it), or with --slurm as a Slurm batch job (sbatch --parsable; the script is written beside the log).\n"
    "  Prints the job id; `matrix jobs` follows it. --log: the job's log (default <project>.runs/jobs/job-ID.log);\n"
    "  --grace: seconds between a cancel's SIGTERM and SIGKILL (20); --wait: wait for the job's end (exit 0 when\n"
    "  it finished).\n";

void print_job(const jobs::Job& j) {
    std::cout << "job " << j.id << "\n  kind: " << j.kind << "\n  state: " << j.state << "\n  backend: " << j.backend;
    if (!j.slurm_job_id.empty()) std::cout << " (slurm job " << j.slurm_job_id << ")";
    std::cout << "\n  command: " << j.command_line() << "\n  cwd: " << j.cwd << "\n  log: " << j.log_path;
    if (!j.host.empty()) std::cout << "\n  host: " << j.host << "\n  pid: " << j.pid << " (start " << j.pid_start << ")";
    if (j.run_id) std::cout << "\n  run: " << *j.run_id;
    if (j.exit_code) std::cout << "\n  exit code: " << *j.exit_code;
    if (j.cancel_requested) std::cout << "\n  cancel requested: yes";
    std::cout << "\n  created: " << j.created_at;
    if (!j.started_at.empty()) std::cout << "\n  started: " << j.started_at;
    if (!j.finished_at.empty()) std::cout << "\n  finished: " << j.finished_at;
    if (!j.reason.empty()) std::cout << "\n  reason: " << j.reason;
    std::cout << "\n";
}

Result<jobs::Job> wait_for_end(store::Database& db, int64_t id, double timeout_s) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
        auto j = jobs::refresh_job(db, id);
        if (!j.ok()) return j.error();
        if (j->is_final()) return j;
        if (std::chrono::steady_clock::now() > until)
            return make_error("job " + std::to_string(id) + " still " + j->state + " after " +
                              std::to_string(int(timeout_s)) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
}

int run_jobs(int argc, char** argv) {
    cli::Args args(kUsage, {"db", "tail", "wait", "timeout", "job", "grace"}, {"all", "srun"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (args.positionals().empty()) return cli::fail("jobs: give one of list, show, log, pause, resume, cancel, wait");
    const std::string action = args.positionals()[0];
    if (!args.require({"db"}, "jobs " + action)) return 2;
    const std::string db_path = *args.get("db");
    if (action == "supervise") {
        if (!args.require({"job"}, "jobs supervise")) return 2;
        jobs::SuperviseOptions o;
        o.grace_s = std::stoi(args.get_or("grace", "20"));
        o.srun = args.has("srun");
        return jobs::supervise_job(db_path, std::stoll(*args.get("job")), o);
    }
    if (!std::filesystem::exists(db_path)) return cli::fail("jobs: no project file " + db_path);
    auto project = store::Project::open(db_path);
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto& db = project->db();
    if (action == "list") {
        std::vector<std::string> problems;
        auto list = jobs::refresh_jobs(db, &problems);
        if (!list.ok()) return cli::fail(list.error().to_string());
        for (const auto& p : problems) std::cerr << "warning: " << p << "\n";
        std::cout << std::left << std::setw(5) << "id" << std::setw(7) << "kind" << std::setw(10) << "state"
                  << std::setw(14) << "where" << std::setw(6) << "run" << "command\n";
        for (const auto& j : *list) {
            if (!args.has("all") && j.is_final() && &j - list->data() >= 20) continue;
            const std::string where = j.backend == "slurm" ? "slurm " + j.slurm_job_id : "pid " + std::to_string(j.pid);
            std::cout << std::setw(5) << j.id << std::setw(7) << j.kind << std::setw(10) << j.state << std::setw(14)
                      << where << std::setw(6) << (j.run_id ? std::to_string(*j.run_id) : "-") << j.command_line()
                      << "\n";
        }
        return 0;
    }
    if (args.positionals().size() != 2) return cli::fail("jobs " + action + ": give the job id");
    int64_t id = 0;
    try {
        id = std::stoll(args.positionals()[1]);
    } catch (...) {
        return cli::fail("jobs " + action + ": the job id must be a number, not '" + args.positionals()[1] + "'");
    }
    if (action == "show") {
        auto j = jobs::refresh_job(db, id);
        if (!j.ok()) return cli::fail(j.error().to_string());
        print_job(*j);
        if (j->backend == "slurm" && !j->slurm_job_id.empty()) {  // what Slurm says now, from squeue or sacct
            auto s = jobs::query_slurm_state(j->slurm_job_id);
            std::cout << "  slurm: " << (s.ok() ? jobs::describe_slurm_state(*s) : "cannot ask: " + s.error().to_string()) << "\n";
        }
        return 0;
    }
    if (action == "log") {
        auto j = jobs::JobRepo(db).get(id);
        if (!j.ok()) return cli::fail(j.error().to_string());
        if (!*j) return cli::fail("no job " + std::to_string(id));
        const int n = std::stoi(args.get_or("tail", "1000000"));
        if (!std::filesystem::exists((*j)->log_path)) return cli::fail("job " + std::to_string(id) + ": no log yet at " + (*j)->log_path);
        std::cout << jobs::log_tail((*j)->log_path, n) << "\n";
        return 0;
    }
    if (action == "pause" || action == "resume") {
        auto st = action == "pause" ? jobs::pause_job(db, id) : jobs::resume_job(db, id);
        if (!st.ok()) return cli::fail(st.error().to_string());
        std::cout << "job " << id << " " << (action == "pause" ? "paused" : "running") << "\n";
        return 0;
    }
    if (action == "cancel") {
        auto st = jobs::cancel_job(db, id);
        if (!st.ok()) return cli::fail(st.error().to_string());
        if (args.has("wait")) {
            auto j = wait_for_end(db, id, std::stod(*args.get("wait")));
            if (!j.ok()) return cli::fail(j.error().to_string());
            std::cout << "job " << id << " " << j->state << "\n";
        } else {
            std::cout << "job " << id << ": cancel requested\n";
        }
        return 0;
    }
    if (action == "wait") {
        auto j = wait_for_end(db, id, std::stod(args.get_or("timeout", "86400")));
        if (!j.ok()) return cli::fail(j.error().to_string());
        std::cout << "job " << id << " " << j->state << (j->reason.empty() ? "" : ": " + j->reason) << "\n";
        return j->state == "finished" ? 0 : 1;
    }
    return cli::fail("jobs: unknown action '" + action + "' (list, show, log, pause, resume, cancel, wait)");
}

}  // namespace

namespace matrix::cli {

int submit_command(const std::string& kind, int argc, char** argv) {
    static const std::set<std::string> with_value = {"nodes", "gpus-per-node", "cpus-per-task", "time",
                                                     "partition", "account", "log", "grace"};
    jobs::JobRequest req;
    req.kind = kind;
    req.argv = {argv[0]};
    bool wait = false;
    std::map<std::string, std::string> opts;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::cout << kSubmitUsage;
            return 0;
        }
        if (a == "--slurm") {
            req.slurm = true;
            continue;
        }
        if (a == "--wait") {
            wait = true;
            continue;
        }
        if (a.rfind("--", 0) == 0) {
            std::string key = a.substr(2), value;
            const size_t eq = key.find('=');
            if (eq != std::string::npos) value = key.substr(eq + 1), key = key.substr(0, eq);
            if (with_value.count(key)) {
                if (eq == std::string::npos) {
                    if (i + 1 >= argc) return fail(kind + " submit: --" + key + " needs a value");
                    value = argv[++i];
                }
                opts[key] = value;
                continue;
            }
            if (key == "db") {
                if (eq == std::string::npos) {
                    if (i + 1 >= argc) return fail(kind + " submit: --db needs a value");
                    value = argv[++i];
                }
                std::error_code ec;
                req.db_path = std::filesystem::absolute(value, ec).lexically_normal().string();
                req.argv.push_back("--db");
                req.argv.push_back(req.db_path);
                continue;
            }
        }
        req.argv.push_back(a);
    }
    if (req.db_path.empty()) return fail(kind + " submit: the command needs --db FILE (the job is recorded there)");
    if (req.argv.size() < 2) return fail(kind + " submit: give the command's arguments (e.g. " + kind + " submit sft ...)");
    if (!req.slurm) {
        for (const char* k : {"nodes", "gpus-per-node", "cpus-per-task", "time", "partition", "account"})
            if (opts.count(k)) return fail(kind + " submit: --" + std::string(k) + " is a Slurm option: add --slurm");
    }
    try {
        req.slurm_options.nodes = std::stoi(opts.count("nodes") ? opts["nodes"] : "1");
        req.slurm_options.gpus_per_node = std::stoi(opts.count("gpus-per-node") ? opts["gpus-per-node"] : "0");
        req.slurm_options.cpus_per_task = std::stoi(opts.count("cpus-per-task") ? opts["cpus-per-task"] : "0");
        req.grace_s = std::stoi(opts.count("grace") ? opts["grace"] : "20");
    } catch (...) {
        return fail(kind + " submit: --nodes, --gpus-per-node, --cpus-per-task and --grace take numbers");
    }
    if (req.slurm_options.nodes < 1) return fail(kind + " submit: --nodes must be at least 1");
    req.slurm_options.time = opts["time"];
    req.slurm_options.partition = opts["partition"];
    req.slurm_options.account = opts["account"];
    req.log_path = opts["log"];
    auto project = store::Project::open(req.db_path);
    if (!project.ok()) return fail(project.error().to_string());
    auto job = jobs::submit_job(project->db(), req);
    if (!job.ok()) return fail(job.error().to_string());
    std::cout << "job " << job->id << " " << (req.slurm ? "submitted to Slurm as " + job->slurm_job_id : "started as pid " + std::to_string(job->pid))
              << "; log " << job->log_path << std::endl;
    if (!wait) return 0;
    auto end = wait_for_end(project->db(), job->id, 7 * 86400.0);
    if (!end.ok()) return fail(end.error().to_string());
    std::cout << "job " << job->id << " " << end->state << (end->reason.empty() ? "" : ": " + end->reason) << "\n";
    return end->state == "finished" ? 0 : 1;
}

}  // namespace matrix::cli

MATRIX_CLI_COMMAND("jobs", "jobs run as their own processes or on Slurm: list, show, log, pause, resume, cancel", run_jobs);
