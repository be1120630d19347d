// OpProfiler (see op_profile.h). CPU ops: a global RecordFunction callback keeps a stack per thread (start pushes,
// end pops and charges the op's time to its parent's children), so nesting is exact whatever the clock's resolution.
// CUDA: LibTorch's Kineto profiler (CUDA activities only), its device events summed per kernel name.
#include "bench/op_profile.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

namespace matrix::bench {

namespace prof = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

namespace {

using Clock = std::chrono::steady_clock;

// LibTorch 2.1 moved the event times to nanoseconds (durationNs) and dropped the microsecond getters.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
double duration_us(const prof::KinetoEvent& e) { return double(e.durationNs()) / 1e3; }
#else
double duration_us(const prof::KinetoEvent& e) { return double(e.durationUs()); }
#endif

// Ops that launch no kernel: views, allocations and metadata.
bool no_kernel(const std::string& name) {
    static const std::set<std::string> names = {
        "aten::view", "aten::reshape", "aten::_reshape_alias", "aten::slice", "aten::select", "aten::transpose",
        "aten::t", "aten::narrow", "aten::unsqueeze", "aten::squeeze", "aten::expand", "aten::expand_as",
        "aten::as_strided", "aten::permute", "aten::alias", "aten::detach", "aten::split", "aten::split_with_sizes",
        "aten::chunk", "aten::unbind", "aten::_unsafe_view", "aten::view_as", "aten::flatten", "aten::empty",
        "aten::empty_strided", "aten::empty_like", "aten::resize_", "aten::lift_fresh", "aten::result_type",
        "aten::resolve_conj", "aten::resolve_neg", "aten::is_nonzero", "aten::size", "aten::stride", "aten::numel",
        "aten::contiguous", "aten::to", "aten::type_as", "aten::set_", "aten::detach_", "aten::requires_grad_"};
    return names.count(name) != 0;
}

std::vector<OpStat> sorted(std::map<std::string, OpStat>& by_name) {
    std::vector<OpStat> out;
    for (auto& [name, s] : by_name) out.push_back(std::move(s));
    std::sort(out.begin(), out.end(), [](const OpStat& a, const OpStat& b) {
        return a.self_us != b.self_us ? a.self_us > b.self_us : a.name < b.name;
    });
    return out;
}

struct Frame {
    const char* name;
    Clock::time_point start;
    double children_us = 0;
    bool has_children = false;
};

// What the callbacks collect (one profiler at a time: see op_profile.h).
struct Collected {
    std::mutex mutex;
    std::map<std::string, OpStat> ops;
    double top_level = 0, compute = 0;
    uint64_t generation = 0;  // a thread's stack from an earlier profiler is dropped
};
Collected g_collected;

struct ThreadStack {
    uint64_t generation = 0;
    std::vector<Frame> frames;
};
thread_local ThreadStack t_stack;

ThreadStack& stack_now() {
    const uint64_t gen = g_collected.generation;  // written only while no callback is registered
    if (t_stack.generation != gen) {
        t_stack.generation = gen;
        t_stack.frames.clear();
    }
    return t_stack;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    ThreadStack& s = stack_now();
    if (!s.frames.empty()) s.frames.back().has_children = true;
    s.frames.push_back({fn.name(), Clock::now()});
    return nullptr;
}

void on_end(const at::RecordFunction&, at::ObserverContext*) {
    ThreadStack& s = stack_now();
    if (s.frames.empty()) return;  // began before the profiler did
    const Frame f = s.frames.back();
    s.frames.pop_back();
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - f.start).count();
    if (!s.frames.empty()) s.frames.back().children_us += us;
    const std::string name = f.name ? f.name : "?";
    std::lock_guard<std::mutex> lock(g_collected.mutex);
    OpStat& o = g_collected.ops[name];
    o.name = name;
    o.calls += 1;
    o.total_us += us;
    o.self_us += std::max(0.0, us - f.children_us);
    if (s.frames.empty()) g_collected.top_level += 1;
    if (!f.has_children && !no_kernel(name)) g_collected.compute += 1;
}

}  // namespace

struct OpProfiler::State {
    at::CallbackHandle handle = 0;
    bool cuda = false;
    bool kineto = false;
    Clock::time_point start;
};

OpProfiler::OpProfiler(bool cuda) : m_state(std::make_unique<State>()) {
    {
        std::lock_guard<std::mutex> lock(g_collected.mutex);
        g_collected.ops.clear();
        g_collected.top_level = g_collected.compute = 0;
        ++g_collected.generation;
    }
    m_state->cuda = cuda;
    if (cuda) {
        const impl::ProfilerConfig config(impl::ProfilerState::KINETO);
        const std::set<impl::ActivityType> activities{impl::ActivityType::CUDA};
        prof::prepareProfiler(config, activities);
        prof::enableProfiler(config, activities);
        m_state->kineto = true;
    }
    m_state->handle = at::addGlobalCallback(
        at::RecordFunctionCallback(on_start, on_end)
            .needsInputs(false)
            .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
    m_state->start = Clock::now();
}

OpProfiler::~OpProfiler() {
    if (!m_state) return;
    if (m_state->handle) at::removeCallback(m_state->handle);
    if (m_state->kineto) {
        try {
            (void)prof::disableProfiler();
        } catch (...) {
        }
    }
}

OpProfile OpProfiler::stop() {
    OpProfile p;
    p.wall_us = std::chrono::duration<double, std::micro>(Clock::now() - m_state->start).count();
    at::removeCallback(m_state->handle);
    m_state->handle = 0;
    {
        std::lock_guard<std::mutex> lock(g_collected.mutex);
        p.cpu = sorted(g_collected.ops);
        p.top_level_ops = g_collected.top_level;
        p.compute_ops = g_collected.compute;
    }
    if (m_state->kineto) {
        m_state->kineto = false;
        const auto result = prof::disableProfiler();
        std::map<std::string, OpStat> device;
        for (const auto& e : result->events()) {
            const std::string name = e.name();
            if (e.deviceType() == c10::DeviceType::CPU) {
                if (name.rfind("cudaLaunch", 0) == 0 || name.rfind("cuLaunch", 0) == 0) p.kernel_launches += 1;
                if (name == "cudaGraphLaunch") p.graph_launches += 1;
                continue;
            }
            const double d = duration_us(e);
            OpStat& k = device[name];
            k.name = name;
            k.calls += 1;
            k.self_us += d;
            k.total_us += d;
            p.device_busy_us += d;
        }
        p.device = sorted(device);
    }
    return p;
}

OpProfile per_step_difference(const OpProfile& a, const OpProfile& b, double n) {
    OpProfile d;
    d.wall_us = (a.wall_us - b.wall_us) / n;
    d.top_level_ops = (a.top_level_ops - b.top_level_ops) / n;
    d.compute_ops = (a.compute_ops - b.compute_ops) / n;
    d.kernel_launches = (a.kernel_launches - b.kernel_launches) / n;
    d.graph_launches = (a.graph_launches - b.graph_launches) / n;
    d.device_busy_us = (a.device_busy_us - b.device_busy_us) / n;
    auto diff = [n](const std::vector<OpStat>& x, const std::vector<OpStat>& y) {
        std::map<std::string, OpStat> m;
        for (const auto& s : x) m[s.name] = s;
        for (const auto& s : y) {
            OpStat& o = m[s.name];
            o.name = s.name;
            o.calls -= s.calls;
            o.self_us -= s.self_us;
            o.total_us -= s.total_us;
        }
        std::map<std::string, OpStat> kept;
        for (auto& [name, s] : m) {
            if (s.calls == 0) continue;
            s.calls /= n;
            s.self_us /= n;
            s.total_us /= n;
            kept[name] = s;
        }
        return sorted(kept);
    };
    d.cpu = diff(a.cpu, b.cpu);
    d.device = diff(a.device, b.device);
    return d;
}

void print_profile(const OpProfile& p, const std::string& title, int top, std::FILE* out) {
    std::fprintf(out, "profile %s: wall %.3f ms, %.1f op calls from the engine, %.1f compute ops, %.1f kernel launches, "
                      "%.1f graph launches, device busy %.3f ms\n",
                 title.c_str(), p.wall_us / 1e3, p.top_level_ops, p.compute_ops, p.kernel_launches, p.graph_launches,
                 p.device_busy_us / 1e3);
    double self_sum = 0;
    for (const auto& o : p.cpu) self_sum += o.self_us;
    std::fprintf(out, "  %-44s %9s %11s %7s %11s\n", "cpu op (by self time)", "calls", "self ms", "share", "total ms");
    for (int i = 0; i < top && i < int(p.cpu.size()); ++i) {
        const OpStat& o = p.cpu[size_t(i)];
        std::fprintf(out, "  %-44.44s %9.1f %11.3f %6.1f%% %11.3f\n", o.name.c_str(), o.calls, o.self_us / 1e3,
                     self_sum > 0 ? 100 * o.self_us / self_sum : 0.0, o.total_us / 1e3);
    }
    if (p.device.empty()) return;
    std::fprintf(out, "  %-44s %9s %11s %7s\n", "device kernel (by time)", "calls", "ms", "share");
    for (int i = 0; i < top && i < int(p.device.size()); ++i) {
        const OpStat& o = p.device[size_t(i)];
        std::fprintf(out, "  %-44.44s %9.1f %11.3f %6.1f%%\n", o.name.c_str(), o.calls, o.self_us / 1e3,
                     p.device_busy_us > 0 ? 100 * o.self_us / p.device_busy_us : 0.0);
    }
}

}  // namespace matrix::bench
