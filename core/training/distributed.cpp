// c10d behind core/training/distributed.h: TCPStore rendezvous, ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA,
// LibTorch 2.x with CUDA), blocking and asynchronous collectives with errors that name the lost rank, and the
// bucketed gradient all-reduce overlapped with backward through gradient hooks.
// Versions: Debian's LibTorch 1.13 (CPU) is built and tested here; the 2.x branches (NCCL) compile against
// PyTorch 2.x's LibTorch but were not run in this repository's CI (no multi-GPU machine).
#include "core/training/distributed.h"

#include <torch/version.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#if __has_include(<gloo/algorithm.h>)
#define USE_C10D_GLOO 1
#define MATRIX_HAVE_GLOO 1
#endif
#if defined(MATRIX_HAVE_CUDA) && TORCH_VERSION_MAJOR >= 2
#define USE_C10D_NCCL 1
#define MATRIX_HAVE_NCCL 1
#endif

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef MATRIX_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef MATRIX_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace matrix::train {

namespace {

Result<int> env_int(const char* name, int fallback, bool* present = nullptr) {
    const char* v = std::getenv(name);
    if (present) *present = v && *v;
    if (!v || !*v) return fallback;
    try {
        size_t used = 0;
        int x = std::stoi(v, &used);
        if (used != std::string(v).size() || x < 0) throw std::invalid_argument(v);
        return x;
    } catch (...) {
        return make_error(std::string(name) + "='" + v + "' is not a non-negative integer", "torchrun environment");
    }
}

std::string first_line(const std::string& s) {
    auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

// True when pid is not a live process (gone, or a zombie not yet reaped).
bool pid_gone(int pid) {
    if (pid <= 0) return false;
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X');
}

std::string host_name() {
    char buf[256] = {0};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
}

}  // namespace

Result<std::optional<DistEnv>> dist_env_from_environment() {
    bool has_world = false;
    MATRIX_TRY(int world, env_int("WORLD_SIZE", 1, &has_world));
    if (!has_world) return std::optional<DistEnv>{};
    DistEnv e;
    e.world_size = world;
    if (world < 1) return make_error("WORLD_SIZE must be at least 1", "torchrun environment");
    bool has_rank = false;
    MATRIX_TRY(e.rank, env_int("RANK", 0, &has_rank));
    if (!has_rank) return make_error("WORLD_SIZE is set but RANK is not", "torchrun environment");
    if (e.rank >= world)
        return make_error("RANK " + std::to_string(e.rank) + " is not below WORLD_SIZE " + std::to_string(world),
                          "torchrun environment");
    MATRIX_TRY(e.local_rank, env_int("LOCAL_RANK", e.rank));
    if (const char* a = std::getenv("MASTER_ADDR"); a && *a) e.master_addr = a;
    MATRIX_TRY(e.master_port, env_int("MASTER_PORT", 29500));
    if (e.master_port < 1 || e.master_port > 65535)
        return make_error("MASTER_PORT " + std::to_string(e.master_port) + " is not a port", "torchrun environment");
    return std::optional<DistEnv>{e};
}

int64_t dist_bucket_bytes() {
    auto kb = env_int("MATRIX_DIST_BUCKET_KB", 25 * 1024);
    return int64_t(kb.ok() && *kb > 0 ? *kb : 25 * 1024) * 1024;
}

std::chrono::milliseconds dist_timeout() {
    auto s = env_int("MATRIX_DIST_TIMEOUT_S", 300);
    return std::chrono::seconds(s.ok() && *s > 0 ? *s : 300);
}

// ---- ProcessGroup ---------------------------------------------------------------------------------------

#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

struct ProcessGroup::Pending {
    c10::intrusive_ptr<c10d::Work> work;
    std::vector<at::Tensor> tensors;
    std::string launch_error;
};

struct ProcessGroup::Impl {
    DistEnv env;
    std::string backend;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<C10dGroup> group;
    std::vector<std::pair<std::string, int>> peers;  // rank -> (host, pid)
    std::optional<torch::Device> nccl_device;          // NCCL reduces device tensors: CPU ones are staged there
};

namespace {
// Runs op on t, staged on the NCCL device when t lives on the CPU.
template <class Op>
void on_backend_device(const std::optional<torch::Device>& dev, torch::Tensor& t, Op op) {
    if (!dev || t.device() == *dev) {
        op(t);
        return;
    }
    auto staged = t.to(*dev);
    op(staged);
    t.copy_(staged.cpu());
}
}  // namespace

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
int ProcessGroup::rank() const { return m->env.rank; }
int ProcessGroup::size() const { return m->env.world_size; }
std::string ProcessGroup::backend() const { return m->backend; }

Result<std::unique_ptr<ProcessGroup>> ProcessGroup::join(const DistEnv& env, const std::string& device,
                                                         std::chrono::milliseconds timeout) {
    auto impl = std::make_unique<Impl>();
    impl->env = env;
    const bool cuda = device.rfind("cuda", 0) == 0;
    const std::string where = "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " at " +
                              env.master_addr + ":" + std::to_string(env.master_port);
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(env.master_port);
        so.isServer = env.rank == 0;
        so.numWorkers = static_cast<std::size_t>(env.world_size);
        so.waitWorkers = true;
        so.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
        if (cuda) {
#ifdef MATRIX_HAVE_NCCL
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = timeout;
            impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, env.rank, env.world_size, opts);
            impl->backend = "nccl";
            impl->nccl_device = device.find(':') != std::string::npos ? torch::Device(device)
                                                                      : torch::Device(torch::kCUDA, env.local_rank);
#else
            return make_error("this build has no NCCL process group (it needs LibTorch 2.x built with CUDA)", where);
#endif
        } else {
#ifdef MATRIX_HAVE_GLOO
            auto opts = c10d::ProcessGroupGloo::Options::create();
            opts->timeout = timeout;
            // Where MASTER_ADDR is loopback every rank is on this host; otherwise Gloo binds the host's address.
            const bool loopback = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
            opts->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                             : c10d::ProcessGroupGloo::createDefaultDevice());
            impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, env.rank, env.world_size, opts);
            impl->backend = "gloo";
#else
            return make_error("this build has no Gloo process group (gloo headers were not found)", where);
#endif
        }
        // Every rank's host and pid, so a failed collective can say which rank is gone.
        const std::string me = host_name() + " " + std::to_string(::getpid());
        impl->store->set("matrix/peer/" + std::to_string(env.rank), std::vector<uint8_t>(me.begin(), me.end()));
        for (int r = 0; r < env.world_size; ++r) {
            auto v = impl->store->get("matrix/peer/" + std::to_string(r));
            std::istringstream in(std::string(v.begin(), v.end()));
            std::string host;
            int pid = 0;
            in >> host >> pid;
            impl->peers.emplace_back(host, pid);
        }
    } catch (const std::exception& e) {
        return make_error("joining the process group failed: " + first_line(e.what()), where);
    }
    return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

std::vector<std::pair<int, int64_t>> ProcessGroup::lost_peers() const {
    const std::string here = host_name();
    std::vector<std::pair<int, int64_t>> out;
    for (size_t r = 0; r < m->peers.size(); ++r) {
        if (static_cast<int>(r) == m->env.rank || m->peers[r].first != here) continue;
        if (pid_gone(m->peers[r].second)) out.emplace_back(static_cast<int>(r), m->peers[r].second);
    }
    return out;
}

std::string ProcessGroup::lost_ranks() const {
    std::string out;
    for (const auto& [r, pid] : lost_peers())
        out += (out.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " (pid " + std::to_string(pid) +
               ") is gone";
    return out;
}

namespace {
Error collective_error(const ProcessGroup& pg, const std::string& what, const std::string& cause) {
    // A killed peer's sockets close while it is still exiting (its pid turns into a zombie a moment later): look
    // for up to 3 s before saying the peer could not be named.
    std::string lost = pg.lost_ranks();
    for (int i = 0; i < 30 && lost.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        lost = pg.lost_ranks();
    }
    std::string msg = what + " failed on rank " + std::to_string(pg.rank()) + " of " + std::to_string(pg.size()) + ": " +
                      (lost.empty() ? "a peer rank stopped answering" : lost) + " (" + first_line(cause) +
                      "); the run stops here and is resumable from its last checkpoint";
    return Error{msg, "data-parallel training"};
}
}  // namespace

std::shared_ptr<ProcessGroup::Pending> ProcessGroup::all_reduce_async(torch::Tensor& t) {
    auto p = std::make_shared<Pending>();
    p->tensors = {t};
    if (m->nccl_device && t.device() != *m->nccl_device) p->launch_error = "a CPU tensor in an asynchronous NCCL all-reduce";
    if (!p->launch_error.empty()) return p;
    try {
        c10d::AllreduceOptions o;
        o.reduceOp = c10d::ReduceOp::SUM;
        p->work = m->group->allreduce(p->tensors, o);
    } catch (const std::exception& e) {
        p->launch_error = e.what();
    }
    return p;
}

Status ProcessGroup::wait(const std::shared_ptr<Pending>& p, const std::string& what) {
    if (!p->launch_error.empty()) return collective_error(*this, what, p->launch_error);
    try {
        p->work->wait();
    } catch (const std::exception& e) {
        return collective_error(*this, what, e.what());
    }
    return {};
}

Status ProcessGroup::all_reduce_sum(torch::Tensor& t, const std::string& what) {
    Status st;
    on_backend_device(m->nccl_device, t, [&](torch::Tensor& x) { st = wait(all_reduce_async(x), what); });
    return st;
}

Status ProcessGroup::broadcast(torch::Tensor& t, int root, const std::string& what) {
    try {
        on_backend_device(m->nccl_device, t, [&](torch::Tensor& x) {
            std::vector<at::Tensor> ts{x};
            c10d::BroadcastOptions o;
            o.rootRank = root;
            m->group->broadcast(ts, o)->wait();
        });
    } catch (const std::exception& e) {
        return collective_error(*this, what, e.what());
    }
    return {};
}

Status ProcessGroup::barrier(const std::string& what) {
    try {
        m->group->barrier()->wait();
    } catch (const std::exception& e) {
        return collective_error(*this, what, e.what());
    }
    return {};
}

// ---- GradReducer ----------------------------------------------------------------------------------------

GradReducer::GradReducer(ProcessGroup& pg, std::vector<torch::Tensor> params, int64_t bucket_bytes)
    : m_pg(pg), m_params(std::move(params)) {
    const size_t n = m_params.size();
    m_bucket_of.assign(n, 0);
    m_offset_of.assign(n, 0);
    m_arrived.assign(n, false);
    // Reverse order: the last layers' LoRA gradients come first in backward.
    int64_t bytes = 0;
    for (size_t k = n; k-- > 0;) {
        const auto& p = m_params[k];
        const int64_t nb = p.numel() * static_cast<int64_t>(p.element_size());
        if (m_buckets.empty() || bytes + nb > bucket_bytes ||
            m_params[m_buckets.back().params.front()].scalar_type() != p.scalar_type() ||
            m_params[m_buckets.back().params.front()].device() != p.device()) {
            m_buckets.emplace_back();
            bytes = 0;
        }
        auto& b = m_buckets.back();
        m_bucket_of[k] = m_buckets.size() - 1;
        m_offset_of[k] = bytes / static_cast<int64_t>(p.element_size());
        b.params.push_back(k);
        bytes += nb;
    }
    for (auto& b : m_buckets) {
        int64_t numel = 0;
        for (size_t k : b.params) numel += m_params[k].numel();
        const auto& first = m_params[b.params.front()];
        b.flat = torch::zeros({numel}, first.options().requires_grad(false));
    }
    m_ready.assign(m_buckets.size(), false);
    for (size_t k = 0; k < n; ++k)
        m_hooks.push_back(static_cast<unsigned>(m_params[k].register_hook([this, k](torch::Tensor grad) { on_grad(k, grad); })));
}

GradReducer::~GradReducer() {
    for (size_t k = 0; k < m_hooks.size(); ++k) {
        try {
            m_params[k].remove_hook(m_hooks[k]);
        } catch (...) {  // destructors never throw
        }
    }
}

void GradReducer::arm() {
    m_armed = true;
    m_next_launch = 0;
    std::fill(m_arrived.begin(), m_arrived.end(), false);
    std::fill(m_ready.begin(), m_ready.end(), false);
    for (auto& b : m_buckets) {
        b.pending = b.params.size();
        b.work.reset();
    }
}

void GradReducer::fill_from_grad(size_t k) {
    const auto& p = m_params[k];
    auto slot = m_buckets[m_bucket_of[k]].flat.narrow(0, m_offset_of[k], p.numel());
    if (p.grad().defined()) slot.copy_(p.grad().reshape({-1}));
    else slot.zero_();
}

void GradReducer::on_grad(size_t k, const torch::Tensor& grad) {
    if (!m_armed || m_arrived[k]) return;
    m_arrived[k] = true;
    const auto& p = m_params[k];
    torch::NoGradGuard ng;
    auto slot = m_buckets[m_bucket_of[k]].flat.narrow(0, m_offset_of[k], p.numel());
    // The hook sees this backward's gradient before it is accumulated: the step's local gradient is the sum.
    if (p.grad().defined()) torch::add_out(slot, p.grad().reshape({-1}), grad.reshape({-1}));
    else slot.copy_(grad.reshape({-1}));
    auto& b = m_buckets[m_bucket_of[k]];
    if (--b.pending == 0) {
        m_ready[m_bucket_of[k]] = true;
        launch_ready();
    }
}

void GradReducer::launch_ready() {
    while (m_next_launch < m_buckets.size() && m_ready[m_next_launch]) {
        auto& b = m_buckets[m_next_launch];
        b.work = m_pg.all_reduce_async(b.flat);
        ++m_launched;
        if (!m_in_finish) ++m_launched_in_backward;
        ++m_next_launch;
    }
}

Status GradReducer::finish(const std::string& what) {
    torch::NoGradGuard ng;
    if (!m_armed) arm();  // this rank had no micro-batch in the step: contribute its (zero) gradients
    m_armed = false;
    m_in_finish = true;
    // Parameters whose hook did not run (no gradient in this backward) contribute what they hold.
    for (size_t k = 0; k < m_params.size(); ++k)
        if (!m_arrived[k]) {
            m_arrived[k] = true;
            fill_from_grad(k);
            auto& b = m_buckets[m_bucket_of[k]];
            if (--b.pending == 0) m_ready[m_bucket_of[k]] = true;
        }
    launch_ready();
    m_in_finish = false;
    Status first;
    for (auto& b : m_buckets) {
        auto st = m_pg.wait(b.work, what);
        if (!st.ok() && first.ok()) first = st;
    }
    if (!first.ok()) return first;
    for (size_t k = 0; k < m_params.size(); ++k) {
        auto& p = m_params[k];
        auto reduced = m_buckets[m_bucket_of[k]].flat.narrow(0, m_offset_of[k], p.numel()).view(p.sizes());
        if (p.grad().defined()) p.mutable_grad().copy_(reduced);
        else p.mutable_grad() = reduced.clone();
    }
    return {};
}

}  // namespace matrix::train
