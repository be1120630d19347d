// Sandbox::Impl, shared by sandbox.cpp (the protocol: requests, candidates, choosing) and sandbox_spawn.cpp
// (starting the runner under bubblewrap or the reduced fallback). Internal to core/agent; see sandbox.h.
// Thread safety: like Sandbox (one thread).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/channel.h"
#include "core/agent/sandbox.h"

namespace matrix::agent {

namespace detail {

inline std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// A pids cgroup (v1 /sys/fs/cgroup/pids or the v2 hierarchy) limiting the sandbox's process count; root only.
struct PidsCgroup {
    std::string dir;
    static std::optional<PidsCgroup> create(int64_t max_pids);  // nullopt: no usable pids controller
    void kill_all() const;
    void remove() const;  // kills what is left, then removes the group
};

// Kills every process of a session (the fallback mode's cleanup: candidates change their process group).
void kill_session(pid_t sid);

}  // namespace detail

struct Sandbox::Impl {
    SandboxOptions options;
    ToolHandler tools;
    std::string isolation;
    bool reduced = false;
    std::string python_version;
    pid_t pid = -1;  // bwrap (or python in the fallback), leader of its own session
    std::optional<detail::PidsCgroup> cgroup;
    std::unique_ptr<Channel> root;     // lifeline: the first runner process
    Channel* state = nullptr;          // the current state process (root or an adopted fork)
    std::unique_ptr<Channel> adopted;  // owns `state` when it is not root
    struct Pending {
        std::unique_ptr<Channel> channel;
        int64_t pid = 0;  // inside the sandbox
        bool usable = false;
    };
    std::vector<Pending> pending;
    std::vector<std::string> pending_folders;
    std::string current_folder;  // where the state process runs
    size_t last_fork_size = 0;   // candidates of the last step: the state keeps that many spares ready

    // One-way: the state keeps forks of itself ready while the host is busy (runner.py "spares").
    void ask_for_spares() {
        if (options.spare_forks <= 0) return;
        const size_t n = std::max(static_cast<size_t>(options.spare_forks), last_fork_size);
        if (state && n > 0) (void)state->send({{"op", "spares"}, {"n", n}});
    }

    ~Impl() { shutdown(); }

    void shutdown() {
        pending.clear();
        adopted.reset();
        state = nullptr;
        root.reset();  // EOF: the runner exits, the namespace goes with it
        if (pid > 0) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
            if (reduced) detail::kill_session(pid);
            int status = 0;
            waitpid(pid, &status, 0);
            pid = -1;
        }
        if (cgroup) {
            cgroup->remove();
            cgroup.reset();
        }
    }

    Status spawn();
    Result<nlohmann::json> request(Channel& ch, const nlohmann::json& msg, const std::string& expect, double timeout_s);
    Result<std::vector<ExecResult>> run_candidates(const std::vector<std::string>& codes, int step);
    Status kill_pending(const std::vector<int64_t>& pids, std::map<int64_t, std::string>* status);
};

}  // namespace matrix::agent
