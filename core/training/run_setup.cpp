// Setting a run up: the model on its device (dtype, autocast), the tokenizer, LoRA (seeded init; SFT continues a
// starting adapter, DPO merges it into the base so the reference is base + adapter), and the data (tokenized
// samples, the held-out split by seed, the dataset snapshot stored with the run).
#include "core/training/trainer_session.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "core/store/run_repo.h"

namespace matrix::train::detail {

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

    // The dataset snapshot: which samples, by id and content hash (rank 0 records it).
    if (!s.writer()) return {};
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

}  // namespace matrix::train::detail
