// Sandbox round trips: one step (fork of the state, exec, result, keep) and the fork of K candidates from one
// state (fork + per-candidate folder copy + exec + choose), with a real tool call per step, with the modules the
// agent prompts allow preloaded (numpy, pandas, PIL, cv2: the forks share them copy-on-write).
// The state keeps spare forks ready while the host is busy; in an agent run the host is busy generating the next
// action between steps (hundreds of ms at least), so the steps are measured twice: back to back (no time for
// spares) and after a pause standing in for generation (--think MS, default 300) that is not counted.
// Targets: step round trip < 20 ms, fork of 5 candidates < 50 ms.
// Usage: bench_sandbox [N] [--rlimits] [--no-preload] [--think MS] [--no-spares]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "core/agent/sandbox.h"

using namespace matrix::agent;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

void report(const char* what, std::vector<double> v) {
    std::sort(v.begin(), v.end());
    double sum = 0;
    for (double x : v) sum += x;
    std::printf("%-44s n=%3zu  median %7.2f ms  mean %7.2f ms  p90 %7.2f ms  max %7.2f ms\n", what, v.size(),
                v[v.size() / 2], sum / v.size(), v[v.size() * 9 / 10], v.back());
}

}  // namespace

int main(int argc, char** argv) {
    int n = 50;
    IsolationMode mode = IsolationMode::Auto;
    bool preload = true;
    int think_ms = 300;
    bool spares = true;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--think") == 0 && i + 1 < argc) {
            think_ms = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--no-spares") == 0) {
            spares = false;
        } else if (std::strcmp(argv[i], "--rlimits") == 0) {
            mode = IsolationMode::RlimitsOnly;
        } else if (std::strcmp(argv[i], "--no-preload") == 0) {
            preload = false;
        } else {
            n = std::atoi(argv[i]);
        }
    }
    const std::string work = (std::filesystem::temp_directory_path() / ("bench_sandbox_" + std::to_string(getpid()))).string();
    SandboxOptions o;
    o.work_dir = work;
    o.isolation = mode;
    if (preload) o.preload = {"numpy", "pandas", "PIL.Image", "cv2"};
    o.spare_forks = spares ? 1 : 0;
    o.tools = {{"echo", "returns its text", {{"text", "string", "", true}}, "string"}};
    auto tools = [](const std::string&, const nlohmann::json& args, int, const std::string&) -> matrix::Result<nlohmann::json> {
        return nlohmann::json(args.value("text", ""));
    };
    const auto t_start = Clock::now();
    auto sandbox = Sandbox::start(o, tools);
    if (!sandbox.ok()) {
        std::fprintf(stderr, "bench_sandbox: %s\n", sandbox.error().to_string().c_str());
        return 1;
    }
    Sandbox& s = **sandbox;
    std::printf("isolation: %s\npython %s, start with preloads %.1f ms\n", s.isolation().c_str(), s.python_version().c_str(),
                ms_since(t_start));
    // A small work folder like an agent's (a few files).
    (void)s.execute("import numpy as np\nfor i in range(3):\n    open('f%d.txt' % i, 'w').write('x' * 1000)\narr = np.zeros((256, 256))");

    const auto think = [&] { usleep(static_cast<useconds_t>(think_ms) * 1000); };
    std::vector<double> empty, empty_think, tool, fork5, fork5_think;
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        auto r = s.execute("y = 1");
        empty.push_back(ms_since(t0));
        if (!r.ok()) return 1;
    }
    for (int i = 0; i < n; ++i) {
        think();
        auto t0 = Clock::now();
        auto r = s.execute("y = 1");
        empty_think.push_back(ms_since(t0));
        if (!r.ok()) return 1;
    }
    for (int i = 0; i < n; ++i) {
        auto t0 = Clock::now();
        auto r = s.execute("r = echo(text='hello')\nprint(r, arr.shape)");
        tool.push_back(ms_since(t0));
        if (!r.ok() || r->output != "hello (256, 256)\n") {
            std::fprintf(stderr, "unexpected output\n");
            return 1;
        }
    }
    for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < n; ++i) {
            if (pass == 1) think();
            auto t0 = Clock::now();
            std::vector<std::string> codes;
            for (int k = 0; k < 5; ++k) codes.push_back("z = " + std::to_string(k) + "\nprint(echo(text=str(z)))");
            auto r = s.explore(codes, i);
            if (!r.ok() || !s.choose(static_cast<size_t>(i % 5)).ok()) return 1;
            for (size_t k = 0; k < r->size(); ++k)
                if ((*r)[k].output != std::to_string(k) + "\n") {
                    std::fprintf(stderr, "unexpected candidate output\n");
                    return 1;
                }
            (pass == 0 ? fork5 : fork5_think).push_back(ms_since(t0));
        }
    }
    std::printf("spares: %s, think pause %d ms\n", spares ? "on" : "off", think_ms);
    report("step round trip (fork, exec, keep)", empty);
    report("  the same after a think pause", empty_think);
    report("step round trip with one tool call + print", tool);
    report("fork of 5 candidates (+ folder copies), choose", fork5);
    report("  the same after a think pause", fork5_think);
    sandbox->reset();
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
    return 0;
}
