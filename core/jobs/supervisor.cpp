// The job supervisor (see supervisor.h).
#include "core/jobs/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "core/jobs/job_repo.h"
#include "core/jobs/process.h"
#include "core/store/project.h"

namespace matrix::jobs {

namespace {

volatile sig_atomic_t g_stop_signal = 0;
void on_stop(int sig) { g_stop_signal = sig; }

// Reads what the log gained since `offset` and returns complete lines.
std::string read_new(const std::string& path, std::streamoff& offset) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    if (size <= offset) return {};
    f.seekg(offset);
    std::string chunk(size_t(size - offset), '\0');
    f.read(chunk.data(), std::streamsize(chunk.size()));
    const size_t nl = chunk.rfind('\n');
    if (nl == std::string::npos) return {};
    offset += std::streamoff(nl + 1);
    return chunk.substr(0, nl + 1);
}

int64_t run_id_in_argv(const std::vector<std::string>& argv) {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "--resume" || argv[i] == "--run") {
            try {
                return std::stoll(argv[i + 1]);
            } catch (...) {
            }
        }
    }
    return 0;
}

}  // namespace

int64_t run_id_in_log(const std::string& text) {
    static const std::regex re(R"((?:^|\n)(?:\[(?:resuming )?run |run )(\d+)[ ,:\]])");
    std::smatch m;
    if (std::regex_search(text, m, re)) return std::stoll(m[1].str());
    return 0;
}

int supervise_job(const std::string& db_path, int64_t job_id, const SuperviseOptions& options) {
    // First of all: a stop request from now on is heard, also one that arrived while this program was still loading
    // (the local launcher starts it with SIGTERM and SIGINT blocked, so such a signal waits, pending, until here).
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGHUP, SIG_IGN);  // the window or terminal that started the job going away does not end it
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_UNBLOCK, &stops, nullptr);

    auto project = store::Project::open(db_path);
    if (!project.ok()) {
        std::cerr << "matrix jobs supervise: " << project.error().to_string() << std::endl;
        return 1;
    }
    JobRepo repo(project->db());
    auto got = repo.get(job_id);
    if (!got.ok() || !*got) {
        std::cerr << "matrix jobs supervise: " << (got.ok() ? "no job " + std::to_string(job_id) : got.error().to_string())
                  << " in " << db_path << std::endl;
        return 1;
    }
    const Job job = **got;
    if (job.is_final()) {
        std::cerr << "matrix jobs supervise: job " << job_id << " is already " << job.state << std::endl;
        return 1;
    }

    const int64_t me = getpid();
    if (auto st = repo.set_started(job_id, host_name(), me, process_start_ticks(me)); !st.ok())
        std::cerr << "matrix jobs supervise: recording the start: " << st.error().to_string() << std::endl;
    // Asked to stop before the command started (a Cancel right after Start): record it, start nothing.
    if (g_stop_signal || job.cancel_requested) {
        const std::string why = "cancelled before its command started";
        std::cout << "[job " << job_id << ": " << why << "]" << std::endl;
        (void)repo.finish_if_unfinished(job_id, "cancelled", std::nullopt, why);
        return 0;
    }

    const std::string binary = options.binary.empty() ? self_executable() : options.binary;
    std::vector<std::string> argv;
    if (options.srun) {
        // One task per GPU across the allocation, each with the torchrun environment contract.
        argv = {"srun", "--kill-on-bad-exit=1", "/bin/sh", "-c",
                "export RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS LOCAL_RANK=$SLURM_LOCALID; exec \"$0\" \"$@\"",
                binary};
    } else {
        argv = {binary};
    }
    argv.insert(argv.end(), job.argv.begin(), job.argv.end());
    std::cout << "[job " << job_id << " on " << host_name() << ", supervisor " << me << "] " << job.command_line()
              << std::endl;

    // The command learns it runs as this job (store::RunRepo::create links the run it creates to the job's row).
    setenv("MATRIX_JOB_ID", std::to_string(job_id).c_str(), 1);
    setenv("MATRIX_JOB_DB", db_path.c_str(), 1);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const pid_t child = fork();
    if (child < 0) {
        (void)repo.finish_if_unfinished(job_id, "failed", std::nullopt, "could not start the command: fork failed");
        return 1;
    }
    if (child == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        if (!job.cwd.empty() && chdir(job.cwd.c_str()) != 0) {
            std::cerr << "cannot enter " << job.cwd << std::endl;
            _exit(127);
        }
        if (options.srun) execvp(cargv[0], cargv.data());
        else execv(cargv[0], cargv.data());
        std::cerr << "cannot run " << cargv[0] << std::endl;
        _exit(127);
    }

    std::streamoff offset = 0;
    int64_t run_id = run_id_in_argv(job.argv);
    if (run_id) (void)repo.set_run(job_id, run_id);
    bool cancelling = false;
    auto cancel_at = std::chrono::steady_clock::now();
    bool killed = false;
    int status = 0;
    for (int tick = 0;; ++tick) {
        const pid_t w = waitpid(child, &status, WNOHANG);
        if (w == child) break;
        if (w < 0 && errno != EINTR) {
            status = 0;
            break;
        }
        if (g_stop_signal && !cancelling) {
            cancelling = true;
            cancel_at = std::chrono::steady_clock::now();
            (void)repo.set_cancel_requested(job_id);
            std::cout << "[job " << job_id << ": cancel requested (signal " << int(g_stop_signal)
                      << "), stopping the command]" << std::endl;
            kill(child, SIGTERM);
            kill(child, SIGCONT);
        }
        if (cancelling && !killed &&
            std::chrono::steady_clock::now() - cancel_at > std::chrono::seconds(options.grace_s)) {
            killed = true;
            std::cout << "[job " << job_id << ": the command did not stop within " << options.grace_s
                      << " s: SIGKILL]" << std::endl;
            kill(child, SIGKILL);
        }
        if (!run_id && tick % 5 == 0) {
            if (const int64_t r = run_id_in_log(read_new(job.log_path, offset))) {
                run_id = r;
                (void)repo.set_run(job_id, run_id);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!run_id) {
        std::streamoff from = 0;
        if (const int64_t r = run_id_in_log(read_new(job.log_path, from))) (void)repo.set_run(job_id, r);
    }
    const std::string how = describe_wait_status(status);
    int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    auto now = repo.get(job_id);
    const bool asked = cancelling || (now.ok() && *now && (*now)->cancel_requested);
    std::string state, reason;
    if (asked) {
        state = "cancelled";
        reason = "cancelled on request; the command ended with " + how;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        state = "finished";
    } else {
        state = "failed";
        reason = "the command ended with " + how;
        const std::string tail = log_tail(job.log_path, 12);
        if (!tail.empty()) reason += "; log tail:\n" + tail;
    }
    std::cout << "[job " << job_id << " " << state << ": " << how << "]" << std::endl;
    // A store that is busy or briefly unwritable is retried: a job left "running" would later be taken for one whose
    // process vanished, which is not what happened.
    for (int attempt = 1;; ++attempt) {
        auto st = repo.finish_if_unfinished(job_id, state, exit_code, reason);
        if (st.ok()) break;
        std::cerr << "matrix jobs supervise: recording the end (attempt " << attempt
                  << "): " << st.error().to_string() << std::endl;
        if (attempt == 10) break;
        std::this_thread::sleep_for(std::chrono::seconds(2));
    }
    return state == "cancelled" ? 130 : exit_code;
}

}  // namespace matrix::jobs
