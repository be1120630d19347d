// Internal to core/training: the training session that trainer.cpp's loop runs on, and the parts it is made of,
// each in its own file: batching.cpp (image cache, collation, epoch order), forward_passes.cpp (SFT and DPO micro-
// batches, reference log-probs, evaluation), run_setup.cpp (model, LoRA, data), run_bookkeeping.cpp (the store row,
// checkpoints, the run's end). Not installed and not for the UI: include core/training/trainer.h instead.
// Threading: a Session belongs to the one thread that runs run_training.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/store/project.h"
#include "core/tokenizer/tokenizer.h"
#include "core/training/adapter_io.h"
#include "core/training/checkpoint.h"
#include "core/training/distributed.h"
#include "core/training/optimizer.h"
#include "core/training/losses.h"
#include "core/training/rank_heartbeat.h"
#include "core/training/shared_context.h"
#include "core/training/trainer.h"
#include "core/training/training_data.h"
#include "core/util/file_lock.h"

namespace matrix::train::detail {

using Clock = std::chrono::steady_clock;

// Pixel values per image path, preprocessed once while they fit a budget (tiny/demo sets), else per batch.
class ImageCache {
public:
    explicit ImageCache(const ImageSettings& s) : m_settings(s) {}
    // Appends the images' patches to `pixels` (rows) and grids to `grids`.
    Status append(const std::vector<SampleImage>& images, std::vector<torch::Tensor>& pixels,
                  std::vector<torch::Tensor>& grids);

private:
    static constexpr int64_t kBudget = int64_t(1) << 30;
    ImageSettings m_settings;
    std::map<std::string, torch::Tensor> m_cache;
    int64_t m_bytes = 0;
};

// A right-padded batch of token sequences with labels and the images of every sequence in order.
struct Batch {
    torch::Tensor input_ids, attention_mask, labels;  // [B, L]
    torch::Tensor pixel_values, grid_thw;             // [N, 1176], [n_images, 3] or undefined
    int64_t n_tokens = 0;                             // real (unpadded) tokens
};

Result<Batch> collate(const std::vector<std::vector<int32_t>>& seqs, const std::vector<std::vector<uint8_t>>& masks,
                      const std::vector<const std::vector<SampleImage>*>& images, ImageCache& cache, int64_t pad_id,
                      const torch::Device& device);

std::string fmt(double v, int prec = 4);
std::string fmt_duration(double s);
bool is_oom(const std::string& what);

// The training session: everything the loop needs, set up once.
struct Session {
    TrainRequest req;
    TrainingConfig cfg;
    TrainCallbacks cb;
    std::optional<store::Project> project;
    int64_t run_id = 0;
    int64_t dataset_id = 0;
    std::string out_dir, ckpt_dir;
    FileLock lock;  // held on out_dir while training: tells a live run from one whose process died
    torch::Device device{torch::kCPU};
    bool autocast = false;
    std::optional<model::Qwen2VL> net;
    model::LoraConfig lora_cfg;
    std::vector<NamedParam> trainable;
    std::optional<tok::Tokenizer> tokenizer;
    ImageSettings image_settings;
    std::unique_ptr<ImageCache> images;
    int64_t pad_id = 0;
    SftDataset sft;
    DpoDataset dpo;
    std::vector<size_t> train_idx, eval_idx;
    std::map<int64_t, std::pair<double, double>> ref_logps;  // pair id -> (chosen, rejected)
    std::unique_ptr<Optimizer> opt;
    TrainerState state;
    // Data parallelism (distributed.h): rank `rank` of `world`; pg is null in a single process. Rank 0 alone writes
    // the store row, checkpoints, the reference log-probs file and the adapter; every rank reads them.
    int rank = 0, world = 1;
    std::unique_ptr<ProcessGroup> pg;
    std::unique_ptr<GradReducer> reducer;
    bool writer() const { return rank == 0; }
    // This rank's row in run_ranks (run_rank_repo.h): written once the run id is known, its step and tokens/s at
    // logged steps; `heartbeat` touches it every interval from its own thread while the row is running.
    bool rank_row = false;
    std::unique_ptr<RankHeartbeat> heartbeat;
    Clock::time_point last_heartbeat{};
    bool heartbeat_warned = false;

    void log(const std::string& line);  // rank 0: callback + the run's log in the store; other ranks: nothing
    size_t n_samples() const { return req.stage == Stage::Sft ? sft.samples.size() : dpo.samples.size(); }
};

LoraSpec lora_spec(const Session& s);

// ---- batching.cpp: which samples each micro-batch holds ----
int64_t micro_per_epoch(const Session& s);
// Micro-batches of all ranks in one optimiser step: grad_accum x world (the global batch is that x batch_size).
int64_t micro_per_step(const Session& s);
int64_t steps_per_epoch(const Session& s);
// Training order of epoch e: a pure function of (seed, epoch).
std::vector<size_t> epoch_order(const Session& s, int64_t epoch);

// ---- forward_passes.cpp ----
struct MicroResult {
    torch::Tensor loss;  // differentiable
    int64_t tokens = 0;
    int64_t samples = 0;
    std::map<std::string, double> metrics;
};
// The loss of one micro-batch (samples idx of the stage's dataset), SFT or DPO.
Result<MicroResult> micro_step(Session& s, const std::vector<size_t>& idx);
// DPO: reference log-probs of every pair, computed once (or loaded from out_dir when the data is unchanged).
Status precompute_reference(Session& s);
// Mean loss (and DPO metrics) over the held-out samples.
Result<std::map<std::string, double>> evaluate(Session& s);

// ---- run_setup.cpp ----
Status build_model(Session& s);
Status build_data(Session& s);

// ---- run_bookkeeping.cpp ----
Status open_run(Session& s);
Status save_checkpoint(Session& s);
Status finish_run(Session& s, const std::string& status, const std::optional<std::string>& error = std::nullopt);
// This rank's row: join_rank writes it (state running) once every rank knows the run id and starts the heartbeat
// thread (rank_heartbeat.h); rank_heartbeat updates its step and tokens/s (a failed write is a warning: the run
// goes on); finish_run stops the thread, then writes the final state.
// After a failure, rank 0 marks the peers it knows are gone (same host, process dead) as lost (mark_lost_peers).
Status join_rank(Session& s);
void rank_heartbeat(Session& s, double tokens_per_s);
void mark_lost_peers(Session& s);
// How often a rank writes its step and tokens/s at least, between logged steps (its liveness beat is the thread's).
constexpr double kHeartbeatEverySeconds = 60;

}  // namespace matrix::train::detail
