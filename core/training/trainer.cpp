// run_training: the SFT / DPO loop over the Qwen2-VL engine (core/model), the data of training_data.h and the
// run bookkeeping of the store. Reads top to bottom: set up (store row, model, LoRA, data, optimiser, resume)
// -> loop {batch, forward, loss, backward, step, log, eval, checkpoint} -> save adapter.
// Determinism (CPU): data order is a pure function of (seed, epoch), LoRA init is seeded, dropout draws from the
// CPU generator whose state each checkpoint stores, so a resumed run repeats the uninterrupted one's losses.
#include "core/training/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "core/model/autocast.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/training_queries.h"
#include "core/tokenizer/tokenizer.h"
#include "core/training/adapter_io.h"
#include "core/training/checkpoint.h"
#include "core/training/losses.h"
#include "core/training/optimizer.h"
#include "core/training/shared_context.h"
#include "core/training/training_data.h"
#include "core/util/file_lock.h"
#include "core/util/json_input.h"
#include "core/util/safetensors.h"
#include "core/util/sha256.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/qwen2vl_preprocess.h"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train {

namespace {

using Clock = std::chrono::steady_clock;

// Pixel values per image path, preprocessed once while they fit a budget (tiny/demo sets), else per batch.
class ImageCache {
public:
    explicit ImageCache(const ImageSettings& s) : m_settings(s) {}
    // Appends the images' patches to `pixels` (rows) and grids to `grids`.
    Status append(const std::vector<SampleImage>& images, std::vector<torch::Tensor>& pixels,
                  std::vector<torch::Tensor>& grids) {
        for (const auto& img : images) {
            auto it = m_cache.find(img.resolved);
            torch::Tensor pv;
            if (it != m_cache.end()) {
                pv = it->second;
            } else {
#ifdef MATRIX_HAVE_OPENCV
                vision::PreprocessConfig pc;
                pc.min_pixels = m_settings.min_pixels;
                pc.max_pixels = m_settings.max_pixels;
                pc.patch_size = m_settings.patch_size;
                pc.merge_size = m_settings.merge_size;
                MATRIX_TRY(auto pre, vision::preprocess_file(img.resolved, pc));
                pv = torch::from_blob(pre.pixel_values.data(), {pre.n_patches, pre.patch_dim}, torch::kFloat32).clone();
                if (pre.grid_thw != img.grid_thw)
                    return make_error("grid differs from the one computed from the media row's size", img.resolved);
                if (m_bytes + pv.numel() * 4 < kBudget) {
                    m_cache.emplace(img.resolved, pv);
                    m_bytes += pv.numel() * 4;
                }
#else
                return make_error("this build has no image preprocessing (OpenCV)", img.resolved);
#endif
            }
            pixels.push_back(pv);
            grids.push_back(torch::tensor({img.grid_thw[0], img.grid_thw[1], img.grid_thw[2]}, torch::kInt64).view({1, 3}));
        }
        return {};
    }

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
    int64_t min_prompt = 0;                           // DPO: shortest prompt length (logits only after it)
};

Result<Batch> collate(const std::vector<std::vector<int32_t>>& seqs, const std::vector<std::vector<uint8_t>>& masks,
                      const std::vector<const std::vector<SampleImage>*>& images, ImageCache& cache, int64_t pad_id,
                      const torch::Device& device) {
    Batch b;
    const int64_t B = static_cast<int64_t>(seqs.size());
    int64_t L = 0;
    for (const auto& s : seqs) L = std::max<int64_t>(L, static_cast<int64_t>(s.size()));
    auto ids = torch::full({B, L}, pad_id, torch::kInt64);
    auto att = torch::zeros({B, L}, torch::kInt64);
    auto lab = torch::full({B, L}, kIgnoreIndex, torch::kInt64);
    auto pi = ids.accessor<int64_t, 2>();
    auto pa = att.accessor<int64_t, 2>();
    auto pl = lab.accessor<int64_t, 2>();
    for (int64_t i = 0; i < B; ++i) {
        for (size_t t = 0; t < seqs[i].size(); ++t) {
            pi[i][t] = seqs[i][t];
            pa[i][t] = 1;
            if (masks[i][t]) pl[i][t] = seqs[i][t];
        }
        b.n_tokens += static_cast<int64_t>(seqs[i].size());
    }
    std::vector<torch::Tensor> pixels, grids;
    for (const auto* imgs : images) MATRIX_CHECK(cache.append(*imgs, pixels, grids));
    b.input_ids = ids.to(device);
    b.attention_mask = att.to(device);
    b.labels = lab.to(device);
    if (!pixels.empty()) {
        b.pixel_values = torch::cat(pixels, 0).to(device);
        b.grid_thw = torch::cat(grids, 0);
    }
    return b;
}

std::string fmt(double v, int prec = 4) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    return buf;
}

std::string fmt_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    int64_t t = static_cast<int64_t>(s + 0.5);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t / 60 % 60));
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
    return buf;
}

bool is_oom(const std::string& what) {
    return what.find("out of memory") != std::string::npos || what.find("CUDA out of memory") != std::string::npos ||
           what.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
}

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

    void log(const std::string& line) {
        if (cb.on_log) cb.on_log(line);
        if (project && run_id) (void)store::RunRepo(project->db()).append_log(run_id, line + "\n");
    }
    size_t n_samples() const { return req.stage == Stage::Sft ? sft.samples.size() : dpo.samples.size(); }
};

LoraSpec lora_spec(const Session& s) {
    LoraSpec spec;
    spec.r = static_cast<int>(s.lora_cfg.r);
    spec.alpha = s.lora_cfg.alpha;
    spec.dropout = s.lora_cfg.dropout;
    spec.targets = s.lora_cfg.target_modules;
    spec.use_rslora = s.lora_cfg.use_rslora;
    spec.base_model = s.req.model_dir;
    return spec;
}

// ---- forward passes -----------------------------------------------------------------------------------

model::ForwardInput forward_input(const Batch& b, int64_t logits_to_keep = 0) {
    model::ForwardInput in;
    in.input_ids = b.input_ids;
    in.attention_mask = b.attention_mask;
    if (b.pixel_values.defined()) {
        in.pixel_values = b.pixel_values;
        in.image_grid_thw = b.grid_thw;
    }
    in.logits_to_keep = logits_to_keep;
    return in;
}

struct MicroResult {
    torch::Tensor loss;  // differentiable
    int64_t tokens = 0;
    int64_t samples = 0;
    std::map<std::string, double> metrics;
};

Result<MicroResult> sft_micro(Session& s, const std::vector<size_t>& idx) {
    std::vector<std::vector<int32_t>> seqs;
    std::vector<std::vector<uint8_t>> masks;
    std::vector<const std::vector<SampleImage>*> imgs;
    for (size_t i : idx) {
        seqs.push_back(s.sft.samples[i].ids);
        masks.push_back(s.sft.samples[i].mask);
        imgs.push_back(&s.sft.samples[i].images);
    }
    MATRIX_TRY(Batch b, collate(seqs, masks, imgs, *s.images, s.pad_id, s.device));
    MicroResult r;
    {
        model::CudaAutocast ac(s.autocast);
        auto out = (*s.net)->forward(forward_input(b));
        r.loss = sft_loss(out.logits, b.labels);
    }
    r.tokens = b.n_tokens;
    r.samples = static_cast<int64_t>(idx.size());
    return r;
}

// DPO sequences for pairs idx: [chosen_1..chosen_B, rejected_1..rejected_B] (or one of the halves).
Result<Batch> dpo_batch(Session& s, const std::vector<size_t>& idx, bool chosen, bool rejected) {
    std::vector<std::vector<int32_t>> seqs;
    std::vector<std::vector<uint8_t>> masks;
    std::vector<const std::vector<SampleImage>*> imgs;
    int64_t min_prompt = INT64_MAX;
    for (int half = 0; half < 2; ++half) {
        if ((half == 0 && !chosen) || (half == 1 && !rejected)) continue;
        for (size_t i : idx) {
            const auto& p = s.dpo.samples[i];
            const auto& resp = half == 0 ? p.chosen : p.rejected;
            std::vector<int32_t> seq(p.prompt);
            seq.insert(seq.end(), resp.begin(), resp.end());
            std::vector<uint8_t> m(p.prompt.size(), 0);
            m.resize(seq.size(), 1);
            seqs.push_back(std::move(seq));
            masks.push_back(std::move(m));
            imgs.push_back(&p.images);
            min_prompt = std::min<int64_t>(min_prompt, static_cast<int64_t>(p.prompt.size()));
        }
    }
    MATRIX_TRY(Batch b, collate(seqs, masks, imgs, *s.images, s.pad_id, s.device));
    b.min_prompt = min_prompt;
    return b;
}

// Summed action log-probs [n_seq] and action token counts, computing logits only from the shortest prompt on.
std::pair<torch::Tensor, torch::Tensor> action_logps(Session& s, const Batch& b) {
    const int64_t L = b.input_ids.size(1);
    const int64_t keep = std::max<int64_t>(1, L - (b.min_prompt - 1));
    model::CudaAutocast ac(s.autocast);
    auto out = (*s.net)->forward(forward_input(b, keep < L ? keep : 0));
    auto labels = out.logits.size(1) == L ? b.labels : b.labels.narrow(1, L - out.logits.size(1), out.logits.size(1));
    return sequence_logps_and_counts(out.logits, labels);
}

// Summed action log-probs [2B] (chosen 1..B, rejected 1..B), action token counts and tokens run, of pairs idx:
// with share_context the context is forwarded once (shared_context.h), else one batched [chosen, rejected] forward.
Result<PairLogps> pair_logps(Session& s, const std::vector<size_t>& idx) {
    PairLogps r;
    if (s.cfg.share_context) {
        std::vector<PairTokens> pairs;
        std::vector<torch::Tensor> pixels, grids;
        for (size_t i : idx) {
            const auto& p = s.dpo.samples[i];
            pairs.push_back({p.prompt, p.chosen, p.rejected});
            MATRIX_CHECK(s.images->append(p.images, pixels, grids));
        }
        torch::Tensor pv, grid;
        if (!pixels.empty()) {
            pv = torch::cat(pixels, 0).to(s.device);
            grid = torch::cat(grids, 0);
        }
        model::CudaAutocast ac(s.autocast);
        r = shared_context_logps(**s.net, pairs, pv, grid, s.pad_id);
        r.tokens = 0;  // tokens/s counts the pairs' full sequences, as without sharing
        for (const auto& p : pairs) r.tokens += static_cast<int64_t>(2 * p.prompt.size() + p.chosen.size() + p.rejected.size());
        return r;
    }
    MATRIX_TRY(Batch b, dpo_batch(s, idx, true, true));
    std::tie(r.logps, r.counts) = action_logps(s, b);
    r.tokens = b.n_tokens;
    return r;
}

// Reference log-probs of pairs idx (LoRA disabled = the model before DPO), no grad.
std::pair<torch::Tensor, torch::Tensor> reference_logps(Session& s, const std::vector<size_t>& idx, Status* status) {
    torch::NoGradGuard ng;
    model::set_lora_enabled(**s.net, false);
    const bool was_training = (*s.net)->is_training();
    (*s.net)->eval();
    torch::Tensor c, r;
    auto lp = pair_logps(s, idx);
    if (!lp.ok()) {
        *status = lp.error();
    } else {
        auto all = lp->logps.to(torch::kCPU);
        const int64_t B = static_cast<int64_t>(idx.size());
        c = all.narrow(0, 0, B);
        r = all.narrow(0, B, B);
    }
    model::set_lora_enabled(**s.net, true);
    if (was_training) (*s.net)->train();
    return {c, r};
}

Result<MicroResult> dpo_micro(Session& s, const std::vector<size_t>& idx) {
    const int64_t B = static_cast<int64_t>(idx.size());
    torch::Tensor ref_c, ref_r;
    if (s.cfg.precompute_reference) {
        ref_c = torch::empty({B}, torch::kFloat32);
        ref_r = torch::empty({B}, torch::kFloat32);
        for (int64_t i = 0; i < B; ++i) {
            auto [c, r] = s.ref_logps.at(s.dpo.samples[idx[i]].pair_id);
            ref_c[i] = c;
            ref_r[i] = r;
        }
    } else {
        Status st;
        std::tie(ref_c, ref_r) = reference_logps(s, idx, &st);
        if (!st.ok()) return st.error();
    }
    MATRIX_TRY(PairLogps lp, pair_logps(s, idx));
    auto pc = lp.logps.narrow(0, 0, B), pr = lp.logps.narrow(0, B, B), nc = lp.counts.narrow(0, 0, B);
    const int64_t tokens = lp.tokens;
    auto terms = dpo_loss(pc, pr, ref_c, ref_r, s.cfg.beta, parse_dpo_loss(s.cfg.loss));
    MicroResult r;
    r.loss = terms.loss;
    if (s.cfg.sft_weight > 0) r.loss = r.loss + s.cfg.sft_weight * (-(pc / nc.clamp_min(1)).mean());
    r.tokens = tokens;
    r.samples = B;
    r.metrics["rewards/chosen"] = terms.chosen_rewards.mean().item<double>();
    r.metrics["rewards/rejected"] = terms.rejected_rewards.mean().item<double>();
    r.metrics["rewards/margin"] = terms.margin;
    r.metrics["rewards/accuracy"] = terms.reward_accuracy;
    return r;
}

Result<MicroResult> micro_step(Session& s, const std::vector<size_t>& idx) {
    return s.req.stage == Stage::Sft ? sft_micro(s, idx) : dpo_micro(s, idx);
}

// ---- set-up -------------------------------------------------------------------------------------------

Status open_run(Session& s) {
    MATRIX_TRY(auto proj, store::Project::open(s.req.db_path));
    s.project.emplace(std::move(proj));
    store::RunRepo runs(s.project->db());
    store::DatasetRepo datasets(s.project->db());
    if (s.req.resume_run) {
        MATRIX_TRY(auto run, runs.get(*s.req.resume_run));
        if (!run) return make_error("no run " + std::to_string(*s.req.resume_run) + " in " + s.req.db_path);
        if (run->kind != "sft" && run->kind != "dpo") return make_error("run " + std::to_string(run->id) + " is not a training run");
        // A run still marked "running" after a kill is resumable like a paused one.
        json j = json::parse(run->config, nullptr, false);
        if (!j.is_object() || !j.contains("training")) return make_error("run config is not a training config", "run " + std::to_string(run->id));
        MATRIX_TRY(auto cfg, TrainingConfig::from_json(j["training"]));
        s.cfg = cfg;
        s.cfg.epochs += s.req.extra_epochs;
        MATRIX_TRY(Stage st, parse_stage(run->kind));
        s.req.stage = st;
        s.req.dataset = j.value("dataset", "");
        s.req.model_dir = j.value("model_dir", "");
        s.req.adapter_dir = j.value("adapter_dir", "");
        s.req.out_dir = j.value("out_dir", "");
        s.run_id = run->id;
        if (s.req.extra_epochs) {
            // Keep the row's config in step with what the continued run trains.
            j["training"] = s.cfg.to_json();
            MATRIX_CHECK(store::set_run_config(s.project->db(), s.run_id, j.dump()));
            s.log("continuing for " + std::to_string(s.req.extra_epochs) + " more epoch(s): " +
                  std::to_string(s.cfg.epochs) + " in all");
        }
    } else {
        s.cfg = s.req.config;
    }
    MATRIX_CHECK(s.cfg.validate());
    MATRIX_TRY(auto ds, datasets.find(s.req.dataset));
    if (!ds) return make_error("no dataset named '" + s.req.dataset + "' in " + s.req.db_path);
    s.dataset_id = ds->id;
    if (s.req.out_dir.empty()) return make_error("no output directory given");
    s.out_dir = s.req.out_dir;
    s.ckpt_dir = (fs::path(s.out_dir) / "checkpoints").string();
    std::error_code ec;
    fs::create_directories(s.ckpt_dir, ec);
    if (ec) return make_error("cannot create " + s.ckpt_dir + ": " + ec.message());
    auto lock = FileLock::try_acquire(store::training_run_lock_path(s.out_dir));
    if (!lock.ok())
        return make_error("another training process is writing to " + s.out_dir + " (" + lock.error().message + ")");
    s.lock = std::move(lock).value();
    // Runs whose process died are marked now (this one, when resumed, goes back to "running" below).
    if (auto marked = runs.mark_interrupted_runs(); !marked.ok()) return marked.error();
    if (!s.req.resume_run) {
        store::Run run;
        run.kind = stage_name(s.req.stage);
        run.name = s.req.run_name.empty() ? std::string(stage_name(s.req.stage)) + " on " + s.req.dataset : s.req.run_name;
        run.config = json{{"training", s.cfg.to_json()},
                          {"dataset", s.req.dataset},
                          {"model_dir", s.req.model_dir},
                          {"adapter_dir", s.req.adapter_dir},
                          {"out_dir", s.out_dir}}
                         .dump();
        run.dataset_id = s.dataset_id;
        run.model_path = s.req.model_dir;
        run.adapter_path = s.out_dir;
        MATRIX_TRY(s.run_id, runs.create(run));
        (void)store::ProvenanceRepo(s.project->db()).link("run", s.run_id, "dataset", s.dataset_id, "trained_on");
    }
    MATRIX_CHECK(runs.set_status(s.run_id, "running"));
    return {};
}

Status build_model(Session& s) {
    const std::string dev = s.cfg.device;
    if (dev != "cpu") {
        if (!torch::cuda::is_available()) return make_error("device '" + dev + "' requested but CUDA is not available");
        s.device = torch::Device(dev);
    }
    const bool cuda = s.device.is_cuda();
    model::LoadOptions lo;
    lo.device = s.device;
    lo.dtype = (s.cfg.dtype == "bf16" || (s.cfg.dtype == "auto" && cuda)) ? torch::kBFloat16 : torch::kFloat32;
    s.autocast = cuda && lo.dtype == torch::kBFloat16;
    s.log("loading " + s.req.model_dir + " on " + dev + (lo.dtype == torch::kBFloat16 ? " (bf16)" : " (f32)"));
    MATRIX_TRY(auto net, model::load_qwen2vl(s.req.model_dir, lo));
    s.net.emplace(net);
    MATRIX_TRY(auto tk, tok::Tokenizer::load(s.req.model_dir));
    s.tokenizer.emplace(tk);
    s.pad_id = s.tokenizer->special_ids().endoftext >= 0 ? s.tokenizer->special_ids().endoftext : 0;
    s.image_settings = load_image_settings(s.req.model_dir);
    s.images = std::make_unique<ImageCache>(s.image_settings);

    // LoRA: seeded init. SFT continues a starting adapter; DPO merges it (reference = base + SFT adapter).
    seed_everything(s.cfg.seed);
    s.lora_cfg.r = s.cfg.lora_r;
    s.lora_cfg.alpha = s.cfg.lora_alpha;
    s.lora_cfg.dropout = s.cfg.lora_dropout;
    s.lora_cfg.target_modules = s.cfg.lora_targets;
    s.lora_cfg.include_vision = s.cfg.train_vision;
    if (!s.req.adapter_dir.empty()) {
        MATRIX_TRY(auto loaded, load_peft_adapter(**s.net, s.req.adapter_dir));
        if (s.req.stage == Stage::Dpo) {
            for (auto& m : (*s.net)->modules(false))
                if (auto* lin = m->as<model::LinearImpl>())
                    if (lin->has_lora()) lin->merge_lora();
            s.log("merged starting adapter " + s.req.adapter_dir + " into the base (DPO reference = base + adapter)");
        } else {
            s.lora_cfg.r = loaded.r;
            s.lora_cfg.alpha = loaded.alpha;
            s.lora_cfg.use_rslora = loaded.use_rslora;
            if (!loaded.targets.empty()) s.lora_cfg.target_modules = loaded.targets;
            s.log("continuing adapter " + s.req.adapter_dir + " (r=" + std::to_string(loaded.r) + ")");
        }
    }
    if (s.req.stage == Stage::Dpo || s.req.adapter_dir.empty()) {
        MATRIX_TRY(auto wrapped, model::attach_lora(**s.net, s.lora_cfg));
        s.log("LoRA r=" + std::to_string(s.lora_cfg.r) + " alpha=" + fmt(s.lora_cfg.alpha) + " on " +
              std::to_string(wrapped.size()) + " modules");
    }
    s.trainable = lora_trainable_params(**s.net);
    if (s.trainable.empty()) return make_error("nothing to train: no LoRA parameters");
    (*s.net)->model->gradient_checkpointing = s.cfg.grad_checkpointing;
    if (s.cfg.grad_checkpointing) s.log("gradient checkpointing: decoder layers recomputed in backward");
    return {};
}

Status build_data(Session& s) {
    Progress p;
    p.cancel = s.cb.cancel;
    if (s.req.stage == Stage::Sft) {
        MATRIX_TRY(auto d, load_sft_data(s.project->db(), s.dataset_id, *s.tokenizer, s.image_settings, s.cfg, p));
        s.sft = std::move(d);
    } else {
        MATRIX_TRY(auto d, load_dpo_data(s.project->db(), s.dataset_id, *s.tokenizer, s.image_settings, s.cfg, p));
        s.dpo = std::move(d);
    }
    const DataReport& rep = s.req.stage == Stage::Sft ? s.sft.report : s.dpo.report;
    s.log("data: " + rep.summary());
    for (const auto& w : rep.warnings) s.log("  " + w);
    if (s.n_samples() == 0) {
        std::string why = rep.summary();
        if (!rep.warnings.empty()) why += "; first: " + rep.warnings.front();
        return make_error("no usable samples in dataset '" + s.req.dataset + "' (" + why + ")");
    }
    // Held-out split by seed.
    std::vector<size_t> all(s.n_samples());
    std::iota(all.begin(), all.end(), 0);
    std::mt19937_64 rng(static_cast<uint64_t>(s.cfg.seed) ^ 0x5eedULL);
    std::shuffle(all.begin(), all.end(), rng);
    size_t n_eval = static_cast<size_t>(std::floor(s.cfg.eval_fraction * static_cast<double>(all.size())));
    if (n_eval >= all.size()) n_eval = all.size() - 1;
    s.eval_idx.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n_eval));
    s.train_idx.assign(all.begin() + static_cast<std::ptrdiff_t>(n_eval), all.end());
    std::sort(s.train_idx.begin(), s.train_idx.end());
    std::sort(s.eval_idx.begin(), s.eval_idx.end());

    // The dataset snapshot: which samples, by id and content hash.
    store::RunRepo runs(s.project->db());
    std::vector<store::RunSample> snap;
    if (s.req.stage == Stage::Sft)
        for (const auto& x : s.sft.samples) snap.push_back({"trajectory", x.trajectory_id, x.content_hash});
    else
        for (const auto& x : s.dpo.samples) snap.push_back({"pair", x.pair_id, x.content_hash});
    if (s.req.resume_run) {
        MATRIX_TRY(auto old, runs.samples(s.run_id));
        std::set<std::pair<int64_t, std::string>> a, b;
        for (const auto& x : old) a.insert({x.item_id, x.content_hash});
        for (const auto& x : snap) b.insert({x.item_id, x.content_hash});
        if (!old.empty() && a != b)
            s.log("warning: the dataset changed since the run started (" + std::to_string(old.size()) + " -> " +
                  std::to_string(snap.size()) + " samples); resuming on the current data");
    }
    MATRIX_CHECK(runs.add_samples(s.run_id, snap));
    return {};
}

int64_t micro_per_epoch(const Session& s) {
    return (static_cast<int64_t>(s.train_idx.size()) + s.cfg.batch_size - 1) / s.cfg.batch_size;
}
int64_t steps_per_epoch(const Session& s) {
    return (micro_per_epoch(s) + s.cfg.grad_accum - 1) / s.cfg.grad_accum;
}

// Training order of epoch e: a pure function of (seed, epoch).
std::vector<size_t> epoch_order(const Session& s, int64_t epoch) {
    std::vector<size_t> order = s.train_idx;
    std::mt19937_64 rng(static_cast<uint64_t>(s.cfg.seed) * 1000003ULL + static_cast<uint64_t>(epoch));
    for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with our own draws: same on every libstdc++
        size_t j = static_cast<size_t>(rng() % i);
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

Status precompute_reference(Session& s) {
    const fs::path file = fs::path(s.out_dir) / "reference_logps.safetensors";
    std::string fingerprint;
    {
        Sha256 h;
        for (const auto& p : s.dpo.samples) h.update(p.content_hash);
        h.update(s.req.adapter_dir);
        fingerprint = h.hex_digest();
    }
    if (fs::exists(file)) {
        auto f = SafetensorsFile::open(file.string());
        if (f.ok() && (*f)->metadata().count("fingerprint") && (*f)->metadata().at("fingerprint") == fingerprint) {
            MATRIX_TRY(auto t, load_tensors(file.string()));
            std::map<std::string, torch::Tensor> m(t.begin(), t.end());
            auto ids = m["pair_id"], c = m["chosen"], r = m["rejected"];
            for (int64_t i = 0; i < ids.size(0); ++i)
                s.ref_logps[ids[i].item<int64_t>()] = {c[i].item<double>(), r[i].item<double>()};
            s.log("reference log-probs: loaded " + std::to_string(s.ref_logps.size()) + " from " + file.string());
            return {};
        }
    }
    auto t0 = Clock::now();
    std::vector<size_t> all(s.dpo.samples.size());
    std::iota(all.begin(), all.end(), 0);
    const size_t bs = static_cast<size_t>(s.cfg.batch_size);
    for (size_t i = 0; i < all.size(); i += bs) {
        if (s.cb.cancel && s.cb.cancel->load()) return make_error("cancelled");
        std::vector<size_t> idx(all.begin() + i, all.begin() + std::min(all.size(), i + bs));
        Status st;
        auto [c, r] = reference_logps(s, idx, &st);
        if (!st.ok()) return st;
        for (size_t k = 0; k < idx.size(); ++k)
            s.ref_logps[s.dpo.samples[idx[k]].pair_id] = {c[k].item<double>(), r[k].item<double>()};
    }
    std::vector<int64_t> ids;
    std::vector<double> cs, rs;
    for (auto& [id, v] : s.ref_logps) {
        ids.push_back(id);
        cs.push_back(v.first);
        rs.push_back(v.second);
    }
    MATRIX_CHECK(save_tensors(file.string(),
                              {{"pair_id", torch::tensor(ids, torch::kInt64)},
                               {"chosen", torch::tensor(cs, torch::kFloat64)},
                               {"rejected", torch::tensor(rs, torch::kFloat64)}},
                              {{"fingerprint", fingerprint}}));
    s.log("reference log-probs: computed " + std::to_string(s.ref_logps.size()) + " pairs in " +
          fmt(std::chrono::duration<double>(Clock::now() - t0).count(), 3) + " s, stored in " + file.string());
    return {};
}

// Mean loss (and DPO metrics) over the held-out samples.
Result<std::map<std::string, double>> evaluate(Session& s) {
    torch::NoGradGuard ng;
    (*s.net)->eval();
    std::map<std::string, double> sum;
    int64_t n = 0;
    const size_t bs = static_cast<size_t>(s.cfg.batch_size);
    for (size_t i = 0; i < s.eval_idx.size(); i += bs) {
        std::vector<size_t> idx(s.eval_idx.begin() + i, s.eval_idx.begin() + std::min(s.eval_idx.size(), i + bs));
        MATRIX_TRY(auto r, micro_step(s, idx));
        sum["eval_loss"] += r.loss.item<double>() * static_cast<double>(idx.size());
        for (auto& [k, v] : r.metrics) sum["eval_" + k] += v * static_cast<double>(idx.size());
        n += static_cast<int64_t>(idx.size());
    }
    (*s.net)->train();
    for (auto& [k, v] : sum) v /= static_cast<double>(std::max<int64_t>(1, n));
    return sum;
}

Status save_checkpoint(Session& s) {
    MATRIX_TRY(auto dir, write_checkpoint(s.ckpt_dir, s.trainable, lora_pairs(**s.net), lora_spec(s), *s.opt, s.state,
                                          s.cfg.keep_checkpoints));
    store::RunRepo runs(s.project->db());
    store::Checkpoint c;
    c.run_id = s.run_id;
    c.step = s.state.step;
    c.path = dir;
    c.extra = json{{"epoch", s.state.epoch}, {"micro", s.state.micro}}.dump();
    MATRIX_TRY(int64_t cid, runs.add_checkpoint(c));
    (void)store::ProvenanceRepo(s.project->db()).link("run", s.run_id, "checkpoint", cid, "produced");
    if (auto pruned = runs.prune_missing_checkpoints(s.run_id); !pruned.ok()) return pruned.error();
    s.log("checkpoint step " + std::to_string(s.state.step) + " -> " + dir);
    return {};
}

Status finish_run(Session& s, const std::string& status, const std::optional<std::string>& error = std::nullopt) {
    store::RunRepo runs(s.project->db());
    json summary = {{"steps", s.state.step},     {"total_steps", s.state.total_steps}, {"tokens", s.state.tokens},
                    {"seconds", s.state.seconds}, {"out_dir", s.out_dir}};
    if (!s.state.history.empty()) summary["last"] = s.state.history.back();
    (void)runs.set_summary(s.run_id, summary.dump());
    return runs.set_status(s.run_id, status, error);
}

// ---- the loop -----------------------------------------------------------------------------------------

Result<TrainOutcome> train_loop(Session& s) {
    TrainOutcome outcome;
    outcome.run_id = s.run_id;
    outcome.samples = static_cast<int64_t>(s.train_idx.size());
    const int64_t per_epoch = steps_per_epoch(s);
    int64_t total = per_epoch * s.cfg.epochs;
    if (s.cfg.max_steps > 0) total = std::min(total, s.cfg.max_steps);
    s.opt = std::make_unique<Optimizer>(s.trainable, s.cfg, total);

    // Resume: tensors, optimiser, RNG and position from the newest checkpoint.
    // A damaged newest checkpoint (a torn file after a crash or a full disk) falls back to the one before it.
    std::string resume_from;
    if (s.req.resume_run) {
        const auto candidates = checkpoints_newest_first(s.ckpt_dir);
        for (const std::string& dir : candidates) {
            auto st = read_checkpoint(dir, s.trainable, s.opt.get());
            if (!st.ok()) {
                s.log("warning: " + st.error().to_string() + "; trying an older checkpoint");
                continue;
            }
            resume_from = dir;
            s.state = *st;
            s.log("resumed from " + resume_from + " (step " + std::to_string(st->step) + ", epoch " +
                  std::to_string(st->epoch + 1) + ")");
            break;
        }
        if (resume_from.empty() && !candidates.empty())
            return make_error("none of the run's " + std::to_string(candidates.size()) + " checkpoints could be read",
                              s.ckpt_dir);
        if (candidates.empty()) s.log("no checkpoint yet: starting the run over");
    }
    s.state.total_steps = total;
    s.state.config = s.cfg.to_json();
    s.opt->set_total_steps(total);
    s.log(std::string(stage_name(s.req.stage)) + ": " + std::to_string(s.train_idx.size()) + " training samples, " +
          std::to_string(s.eval_idx.size()) + " held out, " + std::to_string(total) + " optimiser steps (" +
          std::to_string(per_epoch) + " per epoch, batch " + std::to_string(s.cfg.batch_size) + " x accum " +
          std::to_string(s.cfg.grad_accum) + ")");
    if (s.req.stage == Stage::Dpo && s.cfg.precompute_reference) MATRIX_CHECK(precompute_reference(s));

    store::RunRepo runs(s.project->db());
    (*s.net)->train();
    const auto t_start = Clock::now();
    const double seconds_before = s.state.seconds;
    const int64_t tokens_before = s.state.tokens;
    int64_t window_tokens = 0, window_samples = 0;
    auto window_start = Clock::now();
    const int64_t n_micro = micro_per_epoch(s);
    const int64_t first_step = s.state.step;

    for (; s.state.epoch < s.cfg.epochs && s.state.step < total; ++s.state.epoch, s.state.micro = 0) {
        const auto order = epoch_order(s, s.state.epoch);
        while (s.state.micro < n_micro && s.state.step < total) {
            // One optimiser step = up to grad_accum micro-batches.
            const int64_t group = std::min<int64_t>(s.cfg.grad_accum, n_micro - s.state.micro);
            double loss_sum = 0;
            std::map<std::string, double> metric_sum;
            for (int64_t g = 0; g < group; ++g, ++s.state.micro) {
                const size_t lo = static_cast<size_t>(s.state.micro * s.cfg.batch_size);
                std::vector<size_t> idx(order.begin() + lo,
                                        order.begin() + std::min(order.size(), lo + static_cast<size_t>(s.cfg.batch_size)));
                MATRIX_TRY(auto r, micro_step(s, idx));
                const double lv = r.loss.item<double>();
                if (!std::isfinite(lv))
                    return make_error("loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") + " at step " +
                                      std::to_string(s.state.step + 1) + " (lower lr, check the data); checkpoints up to step " +
                                      std::to_string(s.state.step) + " are kept");
                (r.loss / static_cast<double>(group)).backward();
                loss_sum += lv;
                for (auto& [k, v] : r.metrics) metric_sum[k] += v;
                window_tokens += r.tokens;
                window_samples += r.samples;
                s.state.tokens += r.tokens;
            }
            const double lr = s.opt->current_lr();
            const double gnorm = s.opt->step();
            s.state.step = s.opt->step_count();
            const double loss = loss_sum / static_cast<double>(group);
            outcome.step_losses.push_back(loss);

            // Log.
            const double now_s = std::chrono::duration<double>(Clock::now() - t_start).count();
            s.state.seconds = seconds_before + now_s;
            StepReport rep;
            rep.run_id = s.run_id;
            rep.step = s.state.step;
            rep.total_steps = total;
            rep.epoch = s.state.epoch;
            rep.loss = loss;
            rep.lr = lr;
            rep.grad_norm = gnorm;
            const double win = std::chrono::duration<double>(Clock::now() - window_start).count();
            rep.tokens_per_s = win > 0 ? static_cast<double>(window_tokens) / win : 0;
            rep.samples_per_s = win > 0 ? static_cast<double>(window_samples) / win : 0;
            rep.elapsed_s = s.state.seconds;
            rep.eta_s = now_s / static_cast<double>(std::max<int64_t>(1, s.state.step - first_step)) *
                        static_cast<double>(total - s.state.step);
            for (auto& [k, v] : metric_sum) rep.metrics[k] = v / static_cast<double>(group);
            json rec = {{"step", rep.step}, {"epoch", rep.epoch}, {"loss", loss}, {"lr", lr}, {"grad_norm", gnorm},
                        {"tokens_per_s", rep.tokens_per_s}};
            for (auto& [k, v] : rep.metrics) rec[k] = v;
            s.state.history.push_back(rec);
            if (s.state.step % s.cfg.log_every == 0 || s.state.step == total) {
                std::vector<std::pair<std::string, double>> vals = {{"loss", loss}, {"lr", lr}, {"grad_norm", gnorm},
                                                                    {"tokens_per_s", rep.tokens_per_s}};
                for (auto& [k, v] : rep.metrics) vals.emplace_back(k, v);
                MATRIX_CHECK(runs.append_metrics(s.run_id, rep.step, vals));
                std::string line = "step " + std::to_string(rep.step) + "/" + std::to_string(total) + " epoch " +
                                   std::to_string(rep.epoch + 1) + " loss " + fmt(loss, 5) + " lr " + fmt(lr, 3) +
                                   " gnorm " + fmt(gnorm, 3) + " " + fmt(rep.tokens_per_s, 4) + " tok/s";
                if (s.req.stage == Stage::Dpo)
                    line += " margin " + fmt(rep.metrics["rewards/margin"], 4) + " acc " +
                            fmt(rep.metrics["rewards/accuracy"], 3);
                line += " eta " + fmt_duration(rep.eta_s);
                if (s.cb.on_log) s.cb.on_log(line);
                window_tokens = window_samples = 0;
                window_start = Clock::now();
            }
            if (s.cb.on_step) s.cb.on_step(rep);
            outcome.last_metrics = rep.metrics;
            outcome.last_metrics["loss"] = loss;

            if (s.cb.simulate_kill_after_step && s.state.step == s.cb.simulate_kill_after_step) {
                outcome.status = "killed";
                outcome.steps = s.state.step;
                return outcome;
            }
            const bool epoch_end = s.state.micro >= n_micro;
            // Evaluate every N.
            if (!s.eval_idx.empty() && ((s.cfg.eval_every > 0 && s.state.step % s.cfg.eval_every == 0) ||
                                        (s.cfg.eval_every == 0 && epoch_end))) {
                MATRIX_TRY(auto ev, evaluate(s));
                std::vector<std::pair<std::string, double>> vals(ev.begin(), ev.end());
                MATRIX_CHECK(runs.append_metrics(s.run_id, s.state.step, vals));
                StepReport er = rep;
                er.eval = true;
                er.loss = ev["eval_loss"];
                er.metrics = ev;
                if (s.cb.on_step) s.cb.on_step(er);
                s.log("eval step " + std::to_string(s.state.step) + " loss " + fmt(ev["eval_loss"], 5));
            }
            // Checkpoint every M (or at the end of each epoch).
            const bool pausing = s.cb.pause && s.cb.pause->load();
            if (pausing || (s.cfg.save_every > 0 && s.state.step % s.cfg.save_every == 0) ||
                (s.cfg.save_every == 0 && epoch_end)) {
                if (epoch_end) {  // the checkpoint records the next epoch's start
                    ++s.state.epoch;
                    s.state.micro = 0;
                    MATRIX_CHECK(save_checkpoint(s));
                    --s.state.epoch;
                    s.state.micro = n_micro;
                } else {
                    MATRIX_CHECK(save_checkpoint(s));
                }
            }
            if (pausing) {
                outcome.status = "paused";
                outcome.steps = s.state.step;
                s.log("paused at step " + std::to_string(s.state.step));
                MATRIX_CHECK(finish_run(s, "paused"));
                return outcome;
            }
            if (s.cb.cancel && s.cb.cancel->load()) {
                outcome.status = "cancelled";
                outcome.steps = s.state.step;
                s.log("cancelled at step " + std::to_string(s.state.step));
                MATRIX_CHECK(finish_run(s, "cancelled"));
                return outcome;
            }
        }
    }

    // Save the adapter (and a last checkpoint for "continue for N more epochs").
    if (fs::path(latest_checkpoint(s.ckpt_dir)).filename().string() != "checkpoint-" + std::to_string(s.state.step))
        MATRIX_CHECK(save_checkpoint(s));
    MATRIX_CHECK(save_peft_adapter(s.out_dir, lora_pairs(**s.net), lora_spec(s)));
    s.log("adapter saved to " + s.out_dir + " (" + std::to_string(s.state.step) + " steps, " +
          std::to_string(s.state.tokens) + " tokens, " + fmt_duration(s.state.seconds) + ")");
    outcome.status = "finished";
    outcome.adapter_dir = s.out_dir;
    outcome.steps = s.state.step;
    outcome.seconds = s.state.seconds;
    outcome.tokens = s.state.tokens - tokens_before;
    MATRIX_CHECK(finish_run(s, "finished"));
    return outcome;
}

}  // namespace

Result<TrainOutcome> run_training(const TrainRequest& request, const TrainCallbacks& callbacks) {
    Session s;
    s.req = request;
    s.cb = callbacks;
    auto fail = [&](const Error& e) -> Result<TrainOutcome> {
        if (s.project && s.run_id) {
            s.log("error: " + e.to_string());
            (void)finish_run(s, "failed", e.to_string());
        }
        return e;
    };
    try {
        if (auto st = open_run(s); !st.ok()) return fail(st.error().within("starting run"));
        if (auto st = build_model(s); !st.ok()) return fail(st.error().within("building the model"));
        if (auto st = build_data(s); !st.ok()) return fail(st.error().within("building the data"));
        auto r = train_loop(s);
        if (!r.ok()) return fail(r.error());
        // The whole run's losses, including the steps before a resume (from the checkpoint's history).
        r->step_losses.clear();
        for (const auto& h : s.state.history) r->step_losses.push_back(h.value("loss", 0.0));
        return r;
    } catch (const std::exception& e) {
        std::string what = e.what();
        auto nl = what.find('\n');
        if (nl != std::string::npos) what.resize(nl);
        if (is_oom(what))
            return fail(make_error("out of memory at step " + std::to_string(s.state.step + 1) +
                                   ": lower batch_size or max_length (earlier checkpoints are kept)", what));
        return fail(make_error(what, "training step " + std::to_string(s.state.step + 1)));
    }
}

std::vector<std::string> available_devices() {
    std::vector<std::string> out{"cpu"};
    if (torch::cuda::is_available())
        for (size_t i = 0; i < torch::cuda::device_count(); ++i) out.push_back("cuda:" + std::to_string(i));
    return out;
}

std::string ModelInfo::summary() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f%s", n_params >= 1e9 ? n_params / 1e9 : n_params / 1e6, n_params >= 1e9 ? "B" : "M");
    return architecture + ", " + buf + " params, " + dtype + ", " + std::to_string(n_layers) + " layers, hidden " +
           std::to_string(hidden_size) + (has_tokenizer ? "" : ", NO tokenizer.json");
}

Result<ModelInfo> inspect_model_dir(const std::string& dir) {
    ModelInfo info;
    if (!fs::exists(fs::path(dir) / "config.json")) return make_error("config.json not found", dir);
    auto parsed = read_json_file((fs::path(dir) / "config.json").string());
    if (!parsed.ok()) return parsed.error();
    json cfg = std::move(parsed).value();
    if (!cfg.is_object()) return make_error("config.json is not JSON", dir);
    if (cfg.contains("architectures") && cfg["architectures"].is_array() && !cfg["architectures"].empty())
        info.architecture = cfg["architectures"][0].get<std::string>();
    else
        info.architecture = cfg.value("model_type", "?");
    const json& text = cfg.contains("text_config") ? cfg["text_config"] : cfg;
    info.hidden_size = text.value("hidden_size", int64_t(0));
    info.n_layers = text.value("num_hidden_layers", int64_t(0));
    info.vocab_size = text.value("vocab_size", cfg.value("vocab_size", int64_t(0)));
    if (info.architecture.find("Qwen2VL") == std::string::npos && cfg.value("model_type", "") != "qwen2_vl")
        return make_error("not a Qwen2-VL checkpoint (architecture " + info.architecture + ")", dir);
    info.has_tokenizer = fs::exists(fs::path(dir) / "tokenizer.json");
    std::vector<std::string> files;
    if (fs::exists(fs::path(dir) / "model.safetensors.index.json")) {
        auto index = read_json_file((fs::path(dir) / "model.safetensors.index.json").string());
        const json j = index.ok() ? std::move(index).value() : json();
        std::set<std::string> shards;
        if (j.is_object() && j.contains("weight_map"))
            for (auto& [k, v] : j["weight_map"].items()) shards.insert(v.get<std::string>());
        files.assign(shards.begin(), shards.end());
    } else {
        files.push_back("model.safetensors");
    }
    std::map<std::string, int64_t> by_dtype;
    for (const auto& f : files) {
        MATRIX_TRY(auto st, SafetensorsFile::open((fs::path(dir) / f).string()));
        for (const auto& t : st->tensors()) {
            info.n_params += t.numel();
            by_dtype[dtype_name(t.dtype)] += t.numel();
        }
    }
    int64_t best = -1;
    for (auto& [k, v] : by_dtype)
        if (v > best) {
            best = v;
            info.dtype = k;
        }
    return info;
}

}  // namespace matrix::train
