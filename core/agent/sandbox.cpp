// Host side of the Python sandbox (see sandbox.h and resources/sandbox/runner.py for the protocol): requests to
// the runner, step candidates, choosing one. Starting the runner is in sandbox_spawn.cpp.
// Process tree: host -> bwrap (pid namespace init) -> runner "root" state -> one fork per step/candidate.
// The host keeps the root's channel open for the sandbox's whole life (the runner exits at EOF, and the
// namespace with it), and talks to the current state process and to pending candidates over their own
// Unix socket channels, received with SCM_RIGHTS when the state process forks.
#include "core/agent/sandbox.h"
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

#include "core/agent/channel.h"

namespace matrix::agent {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::vector<std::string>& default_authorized_imports() {
    static const std::vector<std::string> list = {"math",    "re",        "json",       "datetime",    "time",
                                                  "collections", "itertools", "statistics", "random", "unicodedata",
                                                  "queue",   "numpy",     "pandas",     "PIL",         "cv2"};
    return list;
}

using detail::errno_text;

Result<nlohmann::json> Sandbox::Impl::request(Channel& ch, const nlohmann::json& msg, const std::string& expect,
                                              double timeout_s) {
    MATRIX_CHECK(ch.send(msg));
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
    for (;;) {
        MATRIX_TRY(auto reply, ch.recv(deadline));
        if (!reply) return make_error("the sandbox did not answer \"" + msg.value("op", "") + "\" within " +
                                      std::to_string(static_cast<int>(timeout_s)) + " s");
        if (reply->value("op", "") == expect) return *reply;
        if (reply->value("op", "") == "error") return make_error("sandbox: " + reply->value("error", ""));
        return make_error("unexpected sandbox message \"" + reply->value("op", "") + "\" (expected " + expect + ")");
    }
}

Status Sandbox::Impl::kill_pending(const std::vector<int64_t>& pids, std::map<int64_t, std::string>* status) {
    if (pids.empty()) return {};
    MATRIX_TRY(auto reply, request(*state, {{"op", "kill"}, {"pids", pids}}, "killed", 30));
    if (status) {
        const nlohmann::json statuses = reply.value("status", nlohmann::json::object());
        for (auto& [k, v] : statuses.items())
            (*status)[std::stoll(k)] = v.get<std::string>();
    }
    return {};
}

Result<std::vector<ExecResult>> Sandbox::Impl::run_candidates(const std::vector<std::string>& codes, int step) {
    if (!pending.empty()) return make_error("the previous step's candidates are still pending: choose() or discard()");
    if (!state) return make_error("the sandbox is stopped");
    const size_t n = codes.size();
    std::vector<ExecResult> results(n);
    if (n == 0) return results;
    last_fork_size = n;

    MATRIX_CHECK(state->send({{"op", "fork"}, {"n", n}, {"step", step}}));
    std::vector<int> fds;
    const auto fork_deadline = Clock::now() + std::chrono::seconds(30);
    MATRIX_TRY(auto forked, state->recv(fork_deadline, &fds));
    if (!forked || forked->value("op", "") != "forked" || fds.size() != n) {
        for (int fd : fds) close(fd);
        return make_error("the sandbox could not fork the step's processes" +
                          std::string(forked ? " (" + forked->value("error", forked->dump()) + ")" : " (no answer)"));
    }
    const auto pids = forked->at("pids").get<std::vector<int64_t>>();
    const auto folders = forked->value("folders", std::vector<std::string>(n));
    pending.resize(n);
    pending_folders.assign(n, "");
    for (size_t i = 0; i < n && i < folders.size(); ++i) pending_folders[i] = folders[i];
    for (size_t i = 0; i < n; ++i) {
        pending[i].channel = std::make_unique<Channel>(fds[i]);
        pending[i].pid = pids[i];
        results[i].folder = i < folders.size() && !folders[i].empty() ? folders[i] : current_folder;
    }

    const auto timeout = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.step_timeout_s));
    std::vector<Clock::time_point> deadline(n), started(n);
    std::vector<bool> done(n, false);
    for (size_t i = 0; i < n; ++i) {
        started[i] = Clock::now();
        deadline[i] = started[i] + timeout;
        if (auto s = pending[i].channel->send({{"op", "exec"}, {"code", codes[i]}, {"step", step}}); !s.ok()) {
            done[i] = true;
            results[i].crashed = true;
            results[i].error = "the sandbox process ended before the step could start";
        }
    }

    std::vector<int64_t> to_kill;
    std::vector<size_t> dead;
    for (;;) {
        std::vector<pollfd> pfds;
        std::vector<size_t> which;
        auto now = Clock::now();
        auto next = Clock::time_point::max();
        for (size_t i = 0; i < n; ++i) {
            if (done[i]) continue;
            if (now >= deadline[i]) {
                done[i] = true;
                results[i].timed_out = true;
                results[i].error = "Code execution timed out after " + std::to_string(static_cast<int>(options.step_timeout_s)) +
                                   " seconds: the step was stopped and the variables are as they were before it";
                to_kill.push_back(pending[i].pid);
                continue;
            }
            // A complete line may already be buffered.
            pfds.push_back({pending[i].channel->fd(), POLLIN, 0});
            which.push_back(i);
            next = std::min(next, deadline[i]);
        }
        if (which.empty()) break;
        const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
        bool buffered = false;
        for (size_t w : which) buffered |= pending[w].channel->has_line();
        int r = buffered ? 0 : poll(pfds.data(), pfds.size(), static_cast<int>(std::min<int64_t>(wait_ms, 60000)));
        if (r < 0 && errno != EINTR) return make_error(errno_text("poll"));
        for (size_t k = 0; k < which.size(); ++k) {
            const size_t i = which[k];
            Channel& ch = *pending[i].channel;
            if (!ch.has_line() && !(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            if (!ch.has_line()) {
                if (auto s = ch.fill(); !s.ok()) {  // EOF: the process died
                    done[i] = true;
                    results[i].crashed = true;
                    dead.push_back(i);
                    continue;
                }
            }
            while (!done[i] && ch.has_line()) {
                MATRIX_TRY(auto msg, ch.take_line());
                const std::string op = msg.value("op", "");
                if (op == "tool") {
                    ++results[i].tool_calls;
                    const auto t0 = Clock::now();
                    Result<nlohmann::json> value = tools ? tools(msg.value("name", ""), msg.value("args", nlohmann::json::object()),
                                                                 static_cast<int>(i), msg.value("cwd", results[i].folder))
                                                         : Result<nlohmann::json>(make_error("no tools in this sandbox"));
                    deadline[i] += Clock::now() - t0;  // time in tools does not count against the step
                    nlohmann::json reply = value.ok() ? nlohmann::json{{"ok", true}, {"value", *value}}
                                                      : nlohmann::json{{"ok", false}, {"error", value.error().to_string()}};
                    (void)ch.send(reply);
                } else if (op == "result") {
                    done[i] = true;
                    ExecResult& res = results[i];
                    res.output = msg.value("output", "");
                    if (msg.contains("error") && msg["error"].is_string()) res.error = msg["error"].get<std::string>();
                    res.is_final = msg.value("final", false);
                    if (res.is_final) {
                        res.final_answer = msg.value("final_answer", nlohmann::json());
                        res.final_answer_text = msg.value("final_answer_text", std::string());
                    }
                    pending[i].usable = true;
                } else {
                    done[i] = true;
                    results[i].crashed = true;
                    results[i].error = "unexpected message from the sandbox: " + op;
                    to_kill.push_back(pending[i].pid);
                }
            }
        }
    }
    for (size_t i = 0; i < n; ++i) results[i].seconds = std::chrono::duration<double>(Clock::now() - started[i]).count();
    for (size_t i : dead) to_kill.push_back(pending[i].pid);
    std::map<int64_t, std::string> status;
    if (!to_kill.empty()) MATRIX_CHECK(kill_pending(to_kill, &status));
    for (size_t i : dead) {
        auto it = status.find(pending[i].pid);
        const std::string how = it != status.end() ? it->second : "ended";
        results[i].error = "The Python process running this code died (" + how +
                           "), e.g. past the memory or CPU limit; the variables are as they were before this step";
    }
    for (size_t i = 0; i < n; ++i)
        if (!results[i].keeps_state()) pending[i].usable = false;
    return results;
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Sandbox::~Sandbox() = default;

Result<std::unique_ptr<Sandbox>> Sandbox::start(const SandboxOptions& options, ToolHandler tools) {
    if (options.work_dir.empty()) return make_error("the sandbox needs a work folder");
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->tools = std::move(tools);
    MATRIX_CHECK(impl->spawn());
    return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

Result<ExecResult> Sandbox::execute(const std::string& code, int step) {
    MATRIX_TRY(auto results, m->run_candidates({code}, step));
    if (results[0].keeps_state()) {
        MATRIX_CHECK(choose(0));
    } else {
        MATRIX_CHECK(discard());
    }
    return results[0];
}

Result<std::vector<ExecResult>> Sandbox::explore(const std::vector<std::string>& codes, int step) {
    return m->run_candidates(codes, step);
}

Status Sandbox::choose(size_t index) {
    if (index >= m->pending.size()) return make_error("no pending candidate " + std::to_string(index));
    if (!m->pending[index].usable) {
        (void)discard();
        return make_error("candidate " + std::to_string(index) + " timed out or crashed: its state cannot be kept");
    }
    MATRIX_CHECK(m->request(*m->state, {{"op", "retire"}, {"keep", m->pending[index].pid}}, "retired", 30));
    auto chosen = std::move(m->pending[index].channel);
    if (index < m->pending_folders.size() && !m->pending_folders[index].empty()) m->current_folder = m->pending_folders[index];
    m->pending.clear();
    m->adopted = std::move(chosen);  // the old adopted state process has exited (retire)
    m->state = m->adopted.get();
    m->ask_for_spares();
    return {};
}

Status Sandbox::discard() {
    std::vector<int64_t> pids;
    for (const auto& p : m->pending)
        if (p.channel) pids.push_back(p.pid);
    m->pending.clear();
    return m->kill_pending(pids, nullptr);
}

const std::string& Sandbox::isolation() const { return m->isolation; }
bool Sandbox::reduced_isolation() const { return m->reduced; }
const std::string& Sandbox::work_dir() const { return m->options.work_dir; }
const std::string& Sandbox::current_folder() const { return m->current_folder; }
const std::string& Sandbox::python_version() const { return m->python_version; }

}  // namespace matrix::agent
