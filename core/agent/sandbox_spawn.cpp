// Starting the sandbox (see sandbox.h): the runner under bubblewrap (new user, pid, net, ipc namespaces; the
// system read-only, the work folder writable) or, where bubblewrap cannot run, the reduced fallback (rlimits,
// its own session, a pids cgroup when root). The protocol spoken afterwards is in sandbox.cpp.
#include "core/agent/sandbox_impl.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace matrix::agent {

extern const char* const k_runner_source;  // resources/sandbox/runner.py, embedded at build time

namespace fs = std::filesystem;

namespace detail {

std::optional<PidsCgroup> PidsCgroup::create(int64_t max_pids) {
    static std::atomic<int> counter{0};
    const std::string name = "matrix-sandbox-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    for (const std::string base : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
        std::error_code ec;
        if (!fs::exists(base + "/cgroup.procs", ec)) continue;
        if (base != "/sys/fs/cgroup/pids") {  // v2: the pids controller must be enabled for children
            std::ifstream sub(base + "/cgroup.subtree_control");
            std::string controllers((std::istreambuf_iterator<char>(sub)), {});
            if (controllers.find("pids") == std::string::npos) continue;
        }
        const std::string dir = base + "/" + name;
        if (mkdir(dir.c_str(), 0755) != 0) continue;
        std::ofstream max(dir + "/pids.max");
        max << max_pids;
        max.close();
        if (!max) {
            rmdir(dir.c_str());
            continue;
        }
        return PidsCgroup{dir};
    }
    return std::nullopt;
}

void PidsCgroup::kill_all() const {
    for (int round = 0; round < 50; ++round) {
        std::ifstream procs(dir + "/cgroup.procs");
        bool any = false;
        for (pid_t p; procs >> p;) {
            ::kill(p, SIGKILL);
            any = true;
        }
        if (!any) return;
        usleep(2000);
    }
}

void PidsCgroup::remove() const {
    kill_all();
    // Killed processes leave the cgroup only once reaped (by the host's init after the namespace ends).
    for (int i = 0; i < 500 && rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i) {
        kill_all();
        usleep(10000);
    }
}

void kill_session(pid_t sid) {
    DIR* d = opendir("/proc");
    if (!d) return;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        std::ifstream stat(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        std::getline(stat, line);
        const size_t close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state;
        long ppid = 0, pgrp = 0, session = 0;
        rest >> state >> ppid >> pgrp >> session;
        if (session == sid) ::kill(static_cast<pid_t>(std::atol(e->d_name)), SIGKILL);
    }
    closedir(d);
}

}  // namespace detail

namespace {

using detail::errno_text;
using detail::PidsCgroup;

// argv/envp prepared before fork(): the child only calls async-signal-safe functions.
struct ExecPlan {
    std::vector<std::string> args, env;
    std::vector<char*> argv, envp;
    void seal() {
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
    }
};

int64_t processes_of_uid(uid_t uid) {
    int64_t n = 0;
    DIR* d = opendir("/proc");
    if (!d) return 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        struct stat st{};
        if (stat((std::string("/proc/") + e->d_name).c_str(), &st) == 0 && st.st_uid == uid) ++n;
    }
    closedir(d);
    return n;
}

void add_system_mounts(std::vector<std::string>& a) {
    a.insert(a.end(), {"--ro-bind", "/usr", "/usr"});
    for (const char* top : {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}) {
        std::error_code ec;
        const auto st = fs::symlink_status(top, ec);
        if (ec) continue;
        if (fs::is_symlink(st)) {
            a.insert(a.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
        } else if (fs::is_directory(st)) {
            a.insert(a.end(), {"--ro-bind", top, top});
        }
    }
    // Only what Python and its libraries read from /etc: shared-library lookup (BLAS via alternatives), time zone,
    // fonts. No passwd, no hosts, no resolv.conf.
    for (const char* etc : {"/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
                            "/etc/localtime", "/etc/fonts"})
        a.insert(a.end(), {"--ro-bind-try", etc, etc});
}

}  // namespace

Result<void> bubblewrap_usable(const std::string& bwrap) {
    static std::mutex mu;
    static std::map<std::string, std::optional<std::string>> cache;  // bwrap path -> failure reason
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(bwrap);
    if (it == cache.end()) {
        std::optional<std::string> failure;
        if (access(bwrap.c_str(), X_OK) != 0) {
            failure = bwrap + " is not installed (Debian package bubblewrap)";
        } else {
            int err_pipe[2];
            if (pipe2(err_pipe, O_CLOEXEC) != 0) return make_error(errno_text("pipe"));
            ExecPlan plan;
            plan.args = {bwrap, "--unshare-all", "--die-with-parent"};
            add_system_mounts(plan.args);
            plan.args.insert(plan.args.end(), {"--proc", "/proc", "--dev", "/dev", "/usr/bin/true"});
            plan.env = {"PATH=/usr/bin:/bin"};
            plan.seal();
            const pid_t pid = fork();
            if (pid == 0) {
                dup2(err_pipe[1], 2);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                execve(plan.argv[0], plan.argv.data(), plan.envp.data());
                _exit(127);
            }
            close(err_pipe[1]);
            std::string err;
            char buf[512];
            for (ssize_t n; (n = read(err_pipe[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
            close(err_pipe[0]);
            int status = 0;
            waitpid(pid, &status, 0);
            if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
                failure = "bubblewrap cannot create its namespaces here (" + (err.empty() ? "exit status " +
                          std::to_string(WEXITSTATUS(status)) : err) + ")";
            }
        }
        it = cache.emplace(bwrap, failure).first;
    }
    if (it->second) return make_error(*it->second);
    return {};
}

Status Sandbox::Impl::spawn() {
    std::error_code ec;
    fs::create_directories(options.work_dir, ec);
    if (ec) return make_error("cannot create the work folder: " + ec.message(), options.work_dir);
    const std::string work = fs::canonical(options.work_dir, ec).string();
    if (ec) return make_error("cannot resolve the work folder: " + ec.message(), options.work_dir);
    options.work_dir = work;

    bool use_bwrap = options.isolation != IsolationMode::RlimitsOnly;
    std::string why_reduced;
    if (use_bwrap) {
        if (auto usable = bubblewrap_usable(options.bwrap); !usable.ok()) {
            if (options.isolation == IsolationMode::Bubblewrap) return usable.error();
            use_bwrap = false;
            why_reduced = usable.error().message;
        }
    } else {
        why_reduced = "bubblewrap switched off";
    }

    // Process-count limit: RLIMIT_NPROC counts every process of the real user and never binds root.
    int64_t nproc_limit = -1;
    std::string process_limit;
    if (getuid() == 0) {
        cgroup = PidsCgroup::create(options.limits.processes + 2);
        process_limit = cgroup ? "pids cgroup max " + std::to_string(options.limits.processes)
                               : "no process-count limit (root without a writable pids cgroup)";
    } else {
        nproc_limit = processes_of_uid(getuid()) + options.limits.processes;
        process_limit = "RLIMIT_NPROC " + std::to_string(nproc_limit) + " for the user";
    }
    const std::string limits = "address space " + std::to_string(options.limits.address_space_mib) + " MiB, CPU " +
                               std::to_string(options.limits.cpu_seconds) + " s, file size " +
                               std::to_string(options.limits.file_size_mib) + " MiB, " +
                               std::to_string(options.limits.open_files) + " open files, " + process_limit;
    if (use_bwrap) {
        isolation = "bubblewrap: no network, read-only system, writable " + work + " only, private /tmp (" +
                    std::to_string(options.limits.tmp_size_mib) + " MiB); " + limits;
    } else {
        reduced = true;
        isolation = "reduced isolation: rlimits only (" + why_reduced + "); the code can read and write what this "
                    "user can, and reach the network; " + limits;
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return make_error(errno_text("socketpair"));
    int go[2];  // the child waits until the parent put it into the cgroup
    if (pipe2(go, O_CLOEXEC) != 0) {
        close(sv[0]);
        close(sv[1]);
        return make_error(errno_text("pipe"));
    }

    ExecPlan plan;
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "HOME=" + work,
                                    "TMPDIR=/tmp", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1",
                                    "MKL_NUM_THREADS=1", "MPLCONFIGDIR=/tmp", "PYTHONDONTWRITEBYTECODE=1",
                                    "PYTHONHASHSEED=0"};
    if (use_bwrap) {
        plan.args = {options.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox"};
        add_system_mounts(plan.args);
        plan.args.insert(plan.args.end(), {"--proc", "/proc", "--dev", "/dev", "--size",
                                           std::to_string(options.limits.tmp_size_mib << 20), "--tmpfs", "/tmp",
                                           "--bind", work, work});
        for (const std::string& p : options.read_only_paths) {
            const std::string abs = fs::absolute(p, ec).lexically_normal().string();
            if (ec || !fs::exists(abs, ec)) continue;
            plan.args.insert(plan.args.end(), {"--ro-bind", abs, abs});
        }
        for (const auto& [source, inside] : options.read_only_binds) {
            const std::string src = fs::absolute(source, ec).lexically_normal().string();
            if (ec || !fs::exists(src, ec) || inside.empty()) continue;
            const std::string dest = inside[0] == '/' ? fs::path(inside).lexically_normal().string()
                                                      : (fs::path(work) / inside).lexically_normal().string();
            plan.args.insert(plan.args.end(), {"--ro-bind", src, dest});
        }
        plan.args.insert(plan.args.end(), {"--chdir", work, "--clearenv"});
        for (const std::string& e : env) {
            const size_t eq = e.find('=');
            plan.args.insert(plan.args.end(), {"--setenv", e.substr(0, eq), e.substr(eq + 1)});
        }
        plan.env = {"PATH=/usr/bin:/bin"};
    } else {
        plan.env = env;
        // No mount namespace: a relative inside path becomes a symbolic link in the work folder.
        for (const auto& [source, inside] : options.read_only_binds) {
            if (inside.empty() || inside[0] == '/') continue;
            const fs::path link = fs::path(work) / inside;
            fs::create_directories(link.parent_path(), ec);
            if (!fs::exists(fs::symlink_status(link, ec))) fs::create_symlink(fs::absolute(source, ec), link, ec);
        }
    }
    plan.args.insert(plan.args.end(), {options.python, "-I", "-c", k_runner_source, "3"});
    plan.seal();

    const rlim_t mib = 1 << 20;
    const struct {
        int resource;
        rlim_t value;
    } rlimits[] = {
        {RLIMIT_AS, static_cast<rlim_t>(options.limits.address_space_mib) * mib},
        {RLIMIT_CPU, static_cast<rlim_t>(options.limits.cpu_seconds)},
        {RLIMIT_FSIZE, static_cast<rlim_t>(options.limits.file_size_mib) * mib},
        {RLIMIT_NOFILE, static_cast<rlim_t>(options.limits.open_files)},
        {RLIMIT_CORE, 0},
    };
    const char* work_c = work.c_str();

    pid = fork();
    if (pid < 0) return make_error(errno_text("fork"));
    if (pid == 0) {
        setsid();
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char c;
        close(go[1]);
        while (read(go[0], &c, 1) < 0 && errno == EINTR) {
        }
        for (const auto& r : rlimits) {
            struct rlimit rl{r.value, r.value};
            setrlimit(r.resource, &rl);
        }
        if (nproc_limit > 0) {
            struct rlimit rl{static_cast<rlim_t>(nproc_limit), static_cast<rlim_t>(nproc_limit)};
            setrlimit(RLIMIT_NPROC, &rl);
        }
        dup2(sv[1], 3);  // clears CLOEXEC on fd 3
        int null = open("/dev/null", O_RDWR);
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        for (int fd = 4; fd < 1024; ++fd) close(fd);
        if (chdir(work_c) != 0) _exit(126);
        execve(plan.argv[0], plan.argv.data(), plan.envp.data());
        _exit(127);
    }
    close(sv[1]);
    close(go[0]);
    if (cgroup) {
        std::ofstream procs(cgroup->dir + "/cgroup.procs");
        procs << pid;
    }
    (void)!write(go[1], "g", 1);
    close(go[1]);
    root = std::make_unique<Channel>(sv[0]);
    state = root.get();

    std::vector<std::string> inputs;  // read-only files inside the sandbox (links, not copies, in candidate folders)
    for (const std::string& p : options.read_only_paths) inputs.push_back(fs::absolute(p, ec).lexically_normal().string());
    for (const auto& [source, inside] : options.read_only_binds)
        inputs.push_back(inside.empty() || inside[0] == '/' ? fs::path(inside).lexically_normal().string()
                                                            : (fs::path(work) / inside).lexically_normal().string());
    nlohmann::json tool_specs = nlohmann::json::array();
    for (const ToolSpec& t : options.tools) tool_specs.push_back(t.to_json());
    nlohmann::json init = {{"op", "init"},
                           {"tools", tool_specs},
                           {"authorized_imports", options.authorized_imports},
                           {"max_output_chars", options.max_output_chars},
                           {"work_dir", work},
                           {"forks_dir", work + "/.forks"},
                           {"inputs", inputs},
                           {"preload", options.preload}};
    auto ready = request(*root, init, "ready", 60);
    if (!ready.ok()) {
        shutdown();
        return ready.error().within("starting the Python sandbox (" + options.python + ")");
    }
    python_version = ready->value("python", "");
    current_folder = work;
    ask_for_spares();
    return {};
}

}  // namespace matrix::agent
