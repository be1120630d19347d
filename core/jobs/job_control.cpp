// Launching and steering jobs (see job_control.h).
#include "core/jobs/job_control.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "core/jobs/process.h"
#include "core/jobs/slurm.h"

namespace matrix::jobs {

namespace fs = std::filesystem;

namespace {

std::string absolute(const std::string& p) {
    std::error_code ec;
    auto a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

Result<Job> must_get(JobRepo& repo, int64_t id) {
    MATRIX_TRY(auto j, repo.get(id));
    if (!j) return make_error("no job " + std::to_string(id));
    return *j;
}

bool local_here(const Job& j) { return j.backend == "local" && (j.host.empty() || j.host == host_name()); }

}  // namespace

std::string default_job_log(const std::string& db_path, int64_t job_id) {
    const fs::path p = absolute(db_path);
    return (p.parent_path() / (p.stem().string() + ".runs") / "jobs" / ("job-" + std::to_string(job_id) + ".log"))
        .string();
}

Result<Job> submit_job(store::Database& db, const JobRequest& request) {
    const std::string db_path = absolute(request.db_path);
    const std::string binary = request.binary.empty() ? self_executable() : request.binary;
    if (binary.empty() || access(binary.c_str(), X_OK) != 0)
        return make_error("the matrix program is not executable", binary.empty() ? "(unknown)" : binary);
    Job job;
    job.kind = request.kind;
    job.argv = request.argv;
    job.cwd = request.cwd.empty() ? fs::current_path().string() : request.cwd;
    job.backend = request.slurm ? "slurm" : "local";
    job.slurm = request.slurm_options;
    job.log_path = request.log_path.empty() ? std::string("(set below)") : absolute(request.log_path);
    JobRepo repo(db);
    MATRIX_TRY(int64_t id, repo.create(job));
    std::string log = request.log_path.empty() ? default_job_log(db_path, id) : absolute(request.log_path);
    MATRIX_CHECK(repo.set_log_path(id, log));
    std::error_code ec;
    fs::create_directories(fs::path(log).parent_path(), ec);
    if (ec) {
        (void)repo.finish_if_unfinished(id, "failed", std::nullopt, "cannot create the log folder: " + ec.message());
        return make_error("cannot create the log folder: " + ec.message(), fs::path(log).parent_path().string());
    }
    if (request.slurm) {
        auto sid = submit_to_slurm(db, id, db_path, binary, request.grace_s);
        if (!sid.ok()) return sid.error().within("job " + std::to_string(id));
    } else {
        MATRIX_CHECK(launch_local(db, id, db_path, binary, request.grace_s));
    }
    return must_get(repo, id);
}

Status launch_local(store::Database& db, int64_t job_id, const std::string& db_path, const std::string& binary,
                    int grace_s) {
    JobRepo repo(db);
    MATRIX_TRY(Job job, must_get(repo, job_id));
    // Everything the children need is prepared before fork: between fork and exec only async-signal-safe calls
    // (the GUI that calls this has other threads).
    const std::string id_s = std::to_string(job_id), grace_s_s = std::to_string(grace_s);
    std::vector<std::string> args = {binary, "jobs", "supervise", "--db", db_path, "--job", id_s, "--grace", grace_s_s};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = open(job.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return make_error(std::string("cannot open the log: ") + strerror(errno), job.log_path);
    int pid_pipe[2];
    if (pipe2(pid_pipe, O_CLOEXEC) != 0) {
        close(log_fd);
        return make_error(std::string("pipe: ") + strerror(errno));
    }
    // SIGTERM / SIGINT are blocked from before fork until the supervisor has its handlers (supervise_job unblocks
    // them): a cancel that comes at once (before exec, or while the supervisor loads) waits, pending, instead of
    // killing the new process (between fork and exec it is still a copy of this program, with its handlers).
    sigset_t stops, before;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stops, &before);
    const pid_t middle = fork();
    if (middle != 0) pthread_sigmask(SIG_SETMASK, &before, nullptr);  // this program (also when fork failed)
    if (middle < 0) {
        close(log_fd);
        close(pid_pipe[0]);
        close(pid_pipe[1]);
        return make_error(std::string("fork: ") + strerror(errno));
    }
    if (middle == 0) {
        // The middle process forks the supervisor and exits at once, so the supervisor is re-parented to init
        // (never a zombie of the launcher) and in its own session (setsid: no terminal, its own process group).
        const pid_t sup = fork();
        if (sup == 0) {
            setsid();
            const int devnull = open("/dev/null", O_RDONLY);
            if (devnull >= 0) dup2(devnull, 0);
            dup2(log_fd, 1);
            dup2(log_fd, 2);
            for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);
            sigprocmask(SIG_SETMASK, &stops, nullptr);  // only SIGTERM / SIGINT blocked, through exec (see above)
            execv(argv[0], argv.data());
            const char msg[] = "matrix jobs: cannot run the supervisor program\n";
            (void)!write(2, msg, sizeof msg - 1);
            _exit(127);
        }
        const int64_t p = sup;
        (void)!write(pid_pipe[1], &p, sizeof p);
        _exit(sup > 0 ? 0 : 1);
    }
    close(log_fd);
    close(pid_pipe[1]);
    int64_t sup = 0;
    const bool got = read(pid_pipe[0], &sup, sizeof sup) == sizeof sup;
    close(pid_pipe[0]);
    int status = 0;
    while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
    }
    if (!got || sup <= 0) {
        (void)repo.finish_if_unfinished(job_id, "failed", std::nullopt, "could not start the supervisor process");
        return make_error("could not start the job's supervisor process", binary);
    }
    // The supervisor records the same on start; doing it here too means a monitor never sees a launched job without
    // its pid. The start time is read once the process exists (a fresh fork's /proc entry is there at once).
    return repo.set_started(job_id, host_name(), sup, process_start_ticks(sup));
}

namespace {

// Stops a job (`stop`) at a moment when none of its processes holds the project's write lock, and records it paused.
// A process stopped inside a write transaction would keep the lock for as long as it stays stopped, and every other
// writer of the project (the GUI, other jobs, this very pause) would fail with "database is locked". So: stop it,
// then take the write lock ourselves with a short wait; taking it proves the stopped job does not hold it, and the
// state is recorded in that same transaction. When the lock is busy, let the job run a moment (`cont`) and try again.
Status stop_outside_write_lock(store::Database& db, int64_t job_id, const std::function<Status()>& stop,
                               const std::function<Status()>& cont) {
    constexpr int kTries = 50;
    struct ShortWait {  // the connection's own busy timeout again on every way out
        store::Database& db;
        const int saved = db.busy_timeout_ms();
        explicit ShortWait(store::Database& d) : db(d) { db.set_busy_timeout_ms(100); }
        ~ShortWait() { db.set_busy_timeout_ms(saved); }
    } short_wait(db);
    Status last;
    for (int attempt = 0; attempt < kTries; ++attempt) {
        MATRIX_CHECK(stop());
        {
            store::Transaction tx(db);
            last = tx.begin_status();
            if (last.ok()) last = JobRepo(db).set_state(job_id, "paused");
            if (last.ok()) last = tx.commit();
            if (last.ok()) return {};
        }
        MATRIX_CHECK(cont());
        std::this_thread::sleep_for(std::chrono::milliseconds(10 + 5 * attempt));
    }
    return make_error("job " + std::to_string(job_id) + " could not be paused at a moment when it holds no write lock "
                      "on the project (" + std::to_string(kTries) + " tries; last: " +
                      (last.ok() ? std::string("?") : last.error().to_string()) + "); it keeps running");
}

}  // namespace

Status pause_job(store::Database& db, int64_t job_id) {
    JobRepo repo(db);
    MATRIX_TRY(Job j, must_get(repo, job_id));
    if (j.state != "running") return make_error("job " + std::to_string(job_id) + " is " + j.state + ", not running");
    if (j.backend == "slurm") {
        return stop_outside_write_lock(
            db, job_id, [&] { return slurm_suspend(j.slurm_job_id, true); },
            [&] { return slurm_suspend(j.slurm_job_id, false); });
    }
    if (!local_here(j)) return make_error("job " + std::to_string(job_id) + " runs on " + j.host);
    if (!process_alive(j.pid, j.pid_start)) return make_error("job " + std::to_string(job_id) + "'s process is gone");
    auto signal_group = [&](int sig, const char* name) -> Status {
        if (killpg(pid_t(j.pid), sig) != 0) return make_error(std::string(name) + ": " + strerror(errno));
        return {};
    };
    return stop_outside_write_lock(
        db, job_id, [&] { return signal_group(SIGSTOP, "SIGSTOP"); }, [&] { return signal_group(SIGCONT, "SIGCONT"); });
}

Status resume_job(store::Database& db, int64_t job_id) {
    JobRepo repo(db);
    MATRIX_TRY(Job j, must_get(repo, job_id));
    if (j.state != "paused") return make_error("job " + std::to_string(job_id) + " is " + j.state + ", not paused");
    if (j.backend == "slurm") {
        MATRIX_CHECK(slurm_suspend(j.slurm_job_id, false));
    } else {
        if (!local_here(j)) return make_error("job " + std::to_string(job_id) + " runs on " + j.host);
        if (!process_alive(j.pid, j.pid_start)) return make_error("job " + std::to_string(job_id) + "'s process is gone");
        if (killpg(pid_t(j.pid), SIGCONT) != 0) return make_error(std::string("SIGCONT: ") + strerror(errno));
    }
    return repo.set_state(job_id, "running");
}

Status cancel_job(store::Database& db, int64_t job_id) {
    JobRepo repo(db);
    MATRIX_TRY(Job j, must_get(repo, job_id));
    if (j.is_final()) return make_error("job " + std::to_string(job_id) + " is already " + j.state);
    MATRIX_CHECK(repo.set_cancel_requested(job_id));
    if (j.backend == "slurm") {
        if (j.slurm_job_id.empty()) {
            (void)repo.finish_if_unfinished(job_id, "cancelled", std::nullopt, "cancelled before it reached Slurm");
            return {};
        }
        MATRIX_CHECK(slurm_cancel(j.slurm_job_id));
        if (j.state == "queued") {
            // Never started: nothing of ours runs to record it.
            (void)repo.finish_if_unfinished(job_id, "cancelled", std::nullopt, "cancelled while queued in Slurm");
        }
        return {};
    }
    if (!local_here(j)) return make_error("job " + std::to_string(job_id) + " runs on " + j.host);
    if (!process_alive(j.pid, j.pid_start)) {
        (void)repo.finish_if_unfinished(job_id, "cancelled", std::nullopt,
                                        "cancelled; its process had already ended without recording its end");
        return {};
    }
    // The supervisor forwards the request to the command and records the end; SIGCONT so a paused job hears it.
    if (kill(pid_t(j.pid), SIGTERM) != 0) return make_error(std::string("SIGTERM: ") + strerror(errno));
    killpg(pid_t(j.pid), SIGCONT);
    if (j.state == "paused") (void)repo.set_state(job_id, "running");
    return {};
}

Result<Job> refresh_job(store::Database& db, int64_t job_id) {
    JobRepo repo(db);
    MATRIX_TRY(Job j, must_get(repo, job_id));
    if (j.is_final()) return j;
    if (j.backend == "slurm") {
        if (j.slurm_job_id.empty()) return j;
        MATRIX_TRY(SlurmState s, query_slurm_state(j.slurm_job_id));
        if (s.state.empty()) {
            // Slurm has forgotten it and the supervisor never recorded an end (it was killed before it could).
            (void)repo.finish_if_unfinished(job_id, "failed", std::nullopt,
                                            "Slurm no longer knows job " + j.slurm_job_id +
                                                " and it recorded no end; log tail:\n" + log_tail(j.log_path, 12));
        } else if (is_final_state(s.state)) {
            // Ended in Slurm's eyes: give the supervisor a moment to record its own end (it does so before exiting).
            MATRIX_TRY(Job again, must_get(repo, job_id));
            if (!again.is_final()) {
                std::string reason = "Slurm job " + j.slurm_job_id + " " + s.slurm;
                if (!s.exit_code.empty()) reason += " (exit " + s.exit_code + ")";
                const std::string tail = log_tail(j.log_path, 12);
                if (!tail.empty()) reason += "; log tail:\n" + tail;
                const std::string state = again.cancel_requested && s.state != "finished" ? "cancelled" : s.state;
                (void)repo.finish_if_unfinished(job_id, state, std::nullopt, reason);
            }
        } else if (s.state != j.state && (s.state == "paused" || (s.state == "running" && j.state == "paused"))) {
            MATRIX_CHECK(repo.set_state(job_id, s.state));
        }
        return must_get(repo, job_id);
    }
    if (!local_here(j) || j.pid == 0) return j;
    if (!process_alive(j.pid, j.pid_start)) {
        // Re-read: the supervisor may have recorded its end between our two reads.
        MATRIX_TRY(Job again, must_get(repo, job_id));
        if (!again.is_final()) {
            std::string reason = "its process " + std::to_string(j.pid) + " on " + j.host +
                                 " ended without recording an end (killed, or the machine restarted)";
            const std::string tail = log_tail(j.log_path, 12);
            if (!tail.empty()) reason += "; log tail:\n" + tail;
            (void)repo.finish_if_unfinished(job_id, again.cancel_requested ? "cancelled" : "failed", std::nullopt,
                                            reason);
        }
        return must_get(repo, job_id);
    }
    // A paused job whose processes were continued by someone else (kill -CONT) is running again, and the reverse.
    const bool stopped = process_stopped(j.pid);
    if (stopped && j.state == "running") MATRIX_CHECK(repo.set_state(job_id, "paused"));
    if (!stopped && j.state == "paused") MATRIX_CHECK(repo.set_state(job_id, "running"));
    return must_get(repo, job_id);
}

Result<std::vector<Job>> refresh_jobs(store::Database& db, std::vector<std::string>* problems) {
    JobRepo repo(db);
    MATRIX_TRY(auto open_jobs, repo.list(true));
    for (const auto& j : open_jobs) {
        auto r = refresh_job(db, j.id);
        if (!r.ok() && problems) problems->push_back("job " + std::to_string(j.id) + ": " + r.error().to_string());
    }
    return repo.list();
}

}  // namespace matrix::jobs
