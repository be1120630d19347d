// The agent's Python sandbox: a real OS process (Debian's /usr/bin/python3 -I running resources/sandbox/runner.py,
// embedded in the binary) that keeps the interpreter state across steps, isolated with bubblewrap where user
// namespaces work (no network, read-only system, only the work folder writable, a fresh /tmp, no home, no
// project file), with rlimits always (address space, CPU, file size, open files) and a process-count limit
// (RLIMIT_NPROC for a normal user; a pids cgroup for root, whom RLIMIT_NPROC does not bind). Where bubblewrap
// cannot run the sandbox falls back to rlimits only and says so in isolation().
//
// Every step runs in a fork of the current state: execute() keeps the fork's state afterwards, explore() runs K
// candidates from the same state and choose() keeps one of them. Siblings never see each other's effects: each
// has its own copy of the interpreter (fork) and of the current folder (<work>/.forks/stepI-cJ-*, where it runs;
// the task's read-only inputs stay links); the chosen candidate's folder becomes the current one. A
// step that passes its wall-clock timeout is killed with its process group and the state is the one before it.
// Tool calls in agent code come back to the host through the ToolHandler.
// Thread safety: one thread drives a Sandbox; the handler is called on that thread.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/agent/tool.h"
#include "core/util/result.h"

namespace matrix::agent {

enum class IsolationMode {
    Auto,        // bubblewrap when it works here, else rlimits only
    Bubblewrap,  // bubblewrap or fail
    RlimitsOnly  // no namespaces (tests of the fallback; machines without user namespaces)
};

struct SandboxLimits {
    int64_t address_space_mib = 4096;  // RLIMIT_AS per process
    int64_t cpu_seconds = 600;         // RLIMIT_CPU per process (the wall-clock timeout usually comes first)
    int64_t file_size_mib = 512;       // RLIMIT_FSIZE
    int64_t open_files = 256;          // RLIMIT_NOFILE
    int64_t processes = 128;           // processes the sandbox may have at once
    int64_t tmp_size_mib = 512;        // the private /tmp (bubblewrap)
};

// The allow-list of the M-TRACE prompts (resources/prompts/matrix_agent_system.txt rule 6).
const std::vector<std::string>& default_authorized_imports();

struct SandboxOptions {
    std::string work_dir;  // the only writable folder; created when missing; code runs in it
    // Files or folders the code may read (the task's images, attachments): visible read-only at their own path.
    std::vector<std::string> read_only_paths;
    // Files shown read-only at another path: {source on the host, path inside} (a dataset's image resolved under an
    // image root appears where the task text says it is; a relative inside path is taken in the work folder).
    std::vector<std::pair<std::string, std::string>> read_only_binds;
    std::vector<ToolSpec> tools;  // a Python stub per tool
    std::vector<std::string> authorized_imports = default_authorized_imports();  // "*" allows every import
    std::vector<std::string> preload;  // modules imported once before the first step (shared by every fork)
    IsolationMode isolation = IsolationMode::Auto;
    SandboxLimits limits;
    double step_timeout_s = 120;     // wall clock per step, not counting time spent in tools
    int64_t max_output_chars = 50000;  // printed output kept per step (then a truncation note)
    // Forks of the state kept ready while the host is busy (the controller generating), so a step does not wait
    // for its fork; the state keeps as many as the last step had candidates, at least this many. 0: no spares (fork when a
    // step comes).
    int spare_forks = 1;
    std::string python = "/usr/bin/python3";
    std::string bwrap = "/usr/bin/bwrap";
};

struct ExecResult {
    std::string output;                // what the code printed (capped)
    std::optional<std::string> error;  // the exception's text, or why the step was stopped; nullopt when it ran
    bool is_final = false;             // final_answer() was called
    nlohmann::json final_answer;       // its argument (JSON value; images saved as a path; else str())
    std::string final_answer_text;     // Python's str() of the argument (what the reference scores)
    bool timed_out = false;            // killed at the wall-clock timeout (state unchanged)
    bool crashed = false;              // the process died (memory, CPU limit, signal) (state unchanged)
    double seconds = 0;                // wall time of the step, tools included
    int tool_calls = 0;
    std::string folder;                // where the code ran (explore(): the candidate's own copy of the folder)
    bool keeps_state() const { return !timed_out && !crashed; }
};

// A tool call from agent code: the tool, its JSON arguments, which candidate called (0 for execute()), and the
// folder the calling code runs in (candidates of explore() each run in their own copy of the work folder).
using ToolHandler = std::function<Result<nlohmann::json>(const std::string& name, const nlohmann::json& args,
                                                          int candidate, const std::string& cwd)>;

class Sandbox {
public:
    static Result<std::unique_ptr<Sandbox>> start(const SandboxOptions& options, ToolHandler tools = {});
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;

    // Runs one step and keeps its effects (unless it timed out or crashed).
    Result<ExecResult> execute(const std::string& code, int step = -1);
    // Runs each code from the current state in its own fork, in parallel; the forks stay pending until choose()
    // or discard(). Results in input order.
    Result<std::vector<ExecResult>> explore(const std::vector<std::string>& codes, int step = -1);
    // The pending fork `index` becomes the state; the others are killed. Error when it timed out or crashed.
    Status choose(size_t index);
    // Kills the pending forks; the state stays the one before explore().
    Status discard();

    // "bubblewrap: ..." or "reduced isolation: ...": what protects the host, for the run's settings and the UI.
    const std::string& isolation() const;
    bool reduced_isolation() const;
    const std::string& work_dir() const;
    // The folder the current state runs in (the work folder, or the chosen candidate's copy of it).
    const std::string& current_folder() const;
    // The Python version inside.
    const std::string& python_version() const;

private:
    struct Impl;
    explicit Sandbox(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

// Whether bubblewrap can create its namespaces here (probed once per process); the reason when it cannot.
Result<void> bubblewrap_usable(const std::string& bwrap = "/usr/bin/bwrap");

}  // namespace matrix::agent
