// Process helpers for jobs (see process.h).
#include "core/jobs/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

namespace matrix::jobs {

namespace {

// Fields after the command name "(...)" of /proc/PID/stat; empty when unreadable.
std::vector<std::string> stat_fields(int64_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    if (!f) return {};
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(text.substr(close + 1));
    std::vector<std::string> out;
    for (std::string w; rest >> w;) out.push_back(w);
    return out;  // out[0] = state (field 3), out[19] = starttime (field 22)
}

}  // namespace

int64_t process_start_ticks(int64_t pid) {
    if (pid <= 0) return 0;
    auto f = stat_fields(pid);
    if (f.size() < 20) return 0;
    try {
        return std::stoll(f[19]);
    } catch (...) {
        return 0;
    }
}

bool process_alive(int64_t pid, int64_t start_ticks) {
    if (pid <= 0) return false;
    auto f = stat_fields(pid);
    if (f.size() < 20) return false;
    if (f[0] == "Z" || f[0] == "X") return false;
    if (start_ticks != 0 && process_start_ticks(pid) != start_ticks) return false;
    return true;
}

bool process_stopped(int64_t pid) {
    auto f = stat_fields(pid);
    return !f.empty() && f[0] == "T";
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
    return buf;
}

std::string self_executable() {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, size_t(n));
}

std::string shell_quote(const std::string& s) {
    bool plain = !s.empty();
    for (char c : s)
        if (!(isalnum((unsigned char)c) || strchr("-_./=:,+@%", c))) plain = false;
    if (plain) return s;
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

Result<Captured> run_capture(const std::vector<std::string>& argv, int timeout_s) {
    if (argv.empty()) return make_error("run_capture: no program");
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + strerror(errno));
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(out_pipe[0]);
        close(out_pipe[1]);
        return make_error(std::string("pipe: ") + strerror(errno));
    }
    int exec_pipe[2];  // tells the parent that exec failed (and why)
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + strerror(errno));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) return make_error(std::string("fork: ") + strerror(errno), argv[0]);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        execvp(args[0], args.data());
        const int e = errno;
        (void)!write(exec_pipe[1], &e, sizeof e);
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    close(exec_pipe[1]);
    int exec_errno = 0;
    const bool exec_failed = read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
    close(exec_pipe[0]);
    Captured c;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    bool timed_out = false;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            kill(pid, SIGKILL);
            break;
        }
        if (poll(fds, 2, int(std::min<int64_t>(left.count(), 1000))) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? c.out : c.err).append(buf, size_t(n));
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (exec_failed) return make_error(std::string("cannot run: ") + strerror(exec_errno), argv[0]);
    if (timed_out) return make_error("did not finish within " + std::to_string(timeout_s) + " s", argv[0]);
    c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return c;
}

std::string log_tail(const std::string& path, int max_lines) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    const std::streamoff from = size > 65536 ? size - 65536 : 0;
    f.seekg(from);
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    while (!text.empty() && text.back() == '\n') text.pop_back();
    size_t pos = text.size();
    for (int n = 0; n < max_lines && pos != std::string::npos && pos > 0; ++n) {
        pos = text.rfind('\n', pos - 1);
    }
    return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

std::string describe_wait_status(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        const char* name = strsignal(sig);
        return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "?") + ")" +
               (WCOREDUMP(status) ? ", core dumped" : "");
    }
    return "wait status " + std::to_string(status);
}

}  // namespace matrix::jobs
