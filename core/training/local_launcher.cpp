// See local_launcher.h: N local ranks of `matrix train` with the torchrun environment, watched until they end.
#include "core/training/local_launcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace matrix::train {

namespace {

std::atomic<int> g_forward_signal{0};
void remember_signal(int sig) { g_forward_signal.store(sig); }

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended with status " + std::to_string(status);
}

}  // namespace

int free_local_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    int port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    ::close(fd);
    return port;
}

int run_local_ranks(const std::vector<std::string>& args, const LaunchOptions& o) {
    auto say = [&](const std::string& line) {
        if (o.on_message) o.on_message(line);
    };
    const int n = o.nproc;
    const int port = free_local_port();
    if (port == 0) {
        say("no free TCP port on 127.0.0.1 for the ranks' rendezvous");
        return 1;
    }
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(n)));
    struct sigaction sa{}, old_int{}, old_term{};
    sa.sa_handler = remember_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    g_forward_signal.store(0);

    std::vector<pid_t> pids(static_cast<size_t>(n), -1);
    for (int r = 0; r < n; ++r) {
        pid_t pid = ::fork();
        if (pid == 0) {
            sigaction(SIGINT, &old_int, nullptr);
            sigaction(SIGTERM, &old_term, nullptr);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            ::setenv("RANK", std::to_string(r).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            ::setenv("WORLD_SIZE", std::to_string(n).c_str(), 1);
            ::setenv("LOCAL_WORLD_SIZE", std::to_string(n).c_str(), 1);
            ::setenv("OMP_NUM_THREADS", threads.c_str(), 0);
            std::vector<char*> argv;
            std::string prog = o.program;
            argv.push_back(prog.data());
            std::vector<std::string> copy = args;
            for (auto& a : copy) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(o.program.c_str(), argv.data());
            std::fprintf(stderr, "rank %d: cannot run %s: %s\n", r, o.program.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        if (pid < 0) {
            say("cannot start rank " + std::to_string(r) + ": " + std::strerror(errno));
            for (pid_t p : pids)
                if (p > 0) ::kill(p, SIGTERM);
            break;
        }
        pids[static_cast<size_t>(r)] = pid;
    }
    say("started " + std::to_string(n) + " ranks (rendezvous 127.0.0.1:" + std::to_string(port) + ", " + threads +
        " threads each)");

    int running = 0;
    for (pid_t p : pids) running += p > 0;
    bool failed = running < n;
    auto fail_time = std::chrono::steady_clock::now();
    bool terminated = false, killed = false;
    while (running > 0) {
        if (int sig = g_forward_signal.exchange(0)) {
            for (pid_t p : pids)
                if (p > 0) ::kill(p, sig);
        }
        int status = 0;
        pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done > 0) {
            for (size_t r = 0; r < pids.size(); ++r) {
                if (pids[r] != done) continue;
                pids[r] = -1;
                --running;
                const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
                if (!ok) {
                    say("rank " + std::to_string(r) + " " + describe(status) +
                        (failed ? "" : "; the other ranks stop at their next collective"));
                    if (!failed) fail_time = std::chrono::steady_clock::now();
                    failed = true;
                }
            }
            continue;
        }
        if (done < 0 && errno == ECHILD) break;
        if (failed && running > 0) {
            const auto waited = std::chrono::steady_clock::now() - fail_time;
            if (!terminated && waited > o.grace) {
                say("terminating the ranks still running after " + std::to_string(o.grace.count()) + " s");
                for (pid_t p : pids)
                    if (p > 0) ::kill(p, SIGTERM);
                terminated = true;
            } else if (terminated && !killed && waited > o.grace + std::chrono::seconds(10)) {
                for (pid_t p : pids)
                    if (p > 0) ::kill(p, SIGKILL);
                killed = true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    return failed ? 1 : 0;
}

}  // namespace matrix::train
