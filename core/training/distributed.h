// Data-parallel training over LibTorch's c10d, the collective layer PyTorch's DDP and torchrun use: a
// ProcessGroupGloo on CPU, a ProcessGroupNCCL on CUDA (LibTorch 2.x built with CUDA; Debian's 1.13 is CPU-only).
// Ranks meet through a c10d TCPStore at MASTER_ADDR:MASTER_PORT (the torchrun environment: RANK, WORLD_SIZE,
// LOCAL_RANK), so a process started by `matrix train --nproc N`, by torchrun or by srun joins the same way.
// All c10d use is in distributed.cpp, behind TORCH_VERSION_MAJOR guards, so the file builds on 1.13 and 2.x.
// A failed collective (a rank killed, a peer silent past the timeout) becomes an Error that names the lost rank
// where it can be told (same host: its pid is gone).
// Threading: a ProcessGroup is used from the training thread; GradReducer's hooks run on the autograd engine's
// thread during backward (the calling thread on CPU).
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::train {

// The torchrun environment contract.
struct DistEnv {
    int rank = 0, world_size = 1, local_rank = 0;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
};
// nullopt when WORLD_SIZE is unset (a single process); an error naming the variable when one is malformed.
Result<std::optional<DistEnv>> dist_env_from_environment();
// Collective timeout: MATRIX_DIST_TIMEOUT_S (seconds), default 300.
std::chrono::milliseconds dist_timeout();

class ProcessGroup {
public:
    // Joins the group (blocks until all world_size ranks are there or the timeout passes). device: "cpu" -> Gloo,
    // "cuda[:N]" -> NCCL where this LibTorch has it.
    static Result<std::unique_ptr<ProcessGroup>> join(const DistEnv& env, const std::string& device,
                                                      std::chrono::milliseconds timeout);
    ~ProcessGroup();
    ProcessGroup(const ProcessGroup&) = delete;
    ProcessGroup& operator=(const ProcessGroup&) = delete;

    int rank() const;
    int size() const;
    std::string backend() const;  // "gloo" | "nccl"

    // Blocking collectives, in place. `what` names the operation in an error ("all-reduce of step 12's gradients").
    Status all_reduce_sum(torch::Tensor& t, const std::string& what);
    Status broadcast(torch::Tensor& t, int root, const std::string& what);
    Status barrier(const std::string& what);

    // Asynchronous all-reduce (sum) of a flat tensor; wait() on the handle.
    struct Pending;
    std::shared_ptr<Pending> all_reduce_async(torch::Tensor& t);
    Status wait(const std::shared_ptr<Pending>& p, const std::string& what);

    // "rank 1 (pid 4242) is gone" when a peer on this host has died, else "" (used in collective errors).
    std::string lost_ranks() const;
    // The peers on this host whose process has died: (rank, pid), by rank.
    std::vector<std::pair<int, int64_t>> lost_peers() const;

private:
    struct Impl;
    explicit ProcessGroup(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

// Bucketed all-reduce of the trainable parameters' gradients. Buckets (~bucket_bytes each, parameters in reverse
// order, roughly the order backward produces them) are launched from gradient hooks as soon as all their
// parameters have their gradient for the step, so communication overlaps the rest of the backward pass (as
// PyTorch's DDP Reducer does); buckets always launch in index order, so every rank issues the same sequence.
// Usage per optimiser step: arm() before the backward of this rank's last micro-batch of the step (earlier
// micro-batches accumulate locally), then finish() after it (also on a rank that had no micro-batch this step).
// finish() leaves each gradient = the sum over ranks (the loss is already scaled by 1 / global micro-batches).
class GradReducer {
public:
    GradReducer(ProcessGroup& pg, std::vector<torch::Tensor> params, int64_t bucket_bytes = 25 << 20);
    ~GradReducer();
    void arm();
    Status finish(const std::string& what);
    size_t n_buckets() const { return m_buckets.size(); }
    int64_t n_launched_in_backward() const { return m_launched_in_backward; }  // bucket launches from hooks
    int64_t n_launched() const { return m_launched; }                          // all bucket launches

private:
    struct Bucket {
        std::vector<size_t> params;
        std::vector<int64_t> offsets;
        torch::Tensor flat;
        size_t pending = 0;
        std::shared_ptr<ProcessGroup::Pending> work;
    };
    void on_grad(size_t param, const torch::Tensor& grad);
    void fill_from_grad(size_t param);
    void launch_ready();

    ProcessGroup& m_pg;
    std::vector<torch::Tensor> m_params;
    std::vector<Bucket> m_buckets;
    std::vector<unsigned> m_hooks;     // hook handles, removed in the destructor
    std::vector<size_t> m_bucket_of;  // param -> bucket
    std::vector<int64_t> m_offset_of;
    std::vector<bool> m_arrived;
    std::vector<bool> m_ready;
    size_t m_next_launch = 0;
    bool m_armed = false;
    int64_t m_launched_in_backward = 0, m_launched = 0;
    bool m_in_finish = false;
};

// Bucket size: MATRIX_DIST_BUCKET_KB, default 25 MiB (DDP's default bucket_cap_mb).
int64_t dist_bucket_bytes();

}  // namespace matrix::train
