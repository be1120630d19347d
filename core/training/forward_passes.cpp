// The forward passes of a training step: an SFT micro-batch (token loss), a DPO micro-batch (policy log-probs of
// chosen and rejected actions against the reference's, with the context forwarded once when share_context is on),
// the reference log-probs (LoRA disabled), precomputed once per run and stored beside the adapter, and evaluation.
#include "core/training/trainer_session.h"

#include <filesystem>
#include <numeric>

#include "core/model/autocast.h"
#include "core/training/losses.h"
#include "core/util/safetensors.h"
#include "core/util/sha256.h"

namespace fs = std::filesystem;

namespace matrix::train::detail {

namespace {

model::ForwardInput forward_input(const Batch& b) {
    model::ForwardInput in;
    in.input_ids = b.input_ids;
    in.attention_mask = b.attention_mask;
    if (b.pixel_values.defined()) {
        in.pixel_values = b.pixel_values;
        in.image_grid_thw = b.grid_thw;
    }
    return in;
}

Result<MicroResult> sft_micro(Session& s, const std::vector<size_t>& idx) {
    std::vector<std::vector<int32_t>> seqs;
    std::vector<std::vector<uint8_t>> masks;
    std::vector<const std::vector<SampleImage>*> imgs;
    std::vector<int64_t> segments;
    const bool pack = s.cfg.packing && idx.size() > 1;
    for (size_t i : idx) {
        const auto& sample = s.sft.samples[i];
        imgs.push_back(&sample.images);
        if (!pack) {
            seqs.push_back(sample.ids);
            masks.push_back(sample.mask);
            continue;
        }
        // One row: the samples end to end. A sample's first token is never a label (it would be predicted from
        // the previous sample's last token).
        if (seqs.empty()) seqs.resize(1), masks.resize(1);
        seqs[0].insert(seqs[0].end(), sample.ids.begin(), sample.ids.end());
        const size_t start = masks[0].size();
        masks[0].insert(masks[0].end(), sample.mask.begin(), sample.mask.end());
        if (!sample.mask.empty()) masks[0][start] = 0;
        segments.push_back(static_cast<int64_t>(sample.ids.size()));
    }
    MATRIX_TRY(Batch b, collate(seqs, masks, imgs, *s.images, s.pad_id, s.device));
    MicroResult r;
    {
        model::CudaAutocast ac(s.autocast);
        const LabelRows rows = label_rows(b.labels);
        auto in = forward_input(b);
        if (pack) {
            in.segments = segments;
            in.attention_mask = torch::Tensor();  // one row, no padding
        }
        in.logit_rows = rows.rows;  // the LM head only where a label is
        r.loss = sft_loss_at_rows((*s.net)->forward(in).logits, rows);
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
        }
    }
    MATRIX_TRY(Batch b, collate(seqs, masks, imgs, *s.images, s.pad_id, s.device));
    return b;
}

// Summed action log-probs [n_seq] and action token counts, computing logits only at the action tokens.
std::pair<torch::Tensor, torch::Tensor> action_logps(Session& s, const Batch& b) {
    model::CudaAutocast ac(s.autocast);
    const LabelRows rows = label_rows(b.labels);
    auto in = forward_input(b);
    in.logit_rows = rows.rows;
    return sequence_logps_and_counts_at_rows((*s.net)->forward(in).logits, rows);
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

}  // namespace

Result<MicroResult> micro_step(Session& s, const std::vector<size_t>& idx) {
    return s.req.stage == Stage::Sft ? sft_micro(s, idx) : dpo_micro(s, idx);
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
    // A stored file with this data's fingerprint is reused. With several ranks they agree first (an all-reduce of
    // "mine is usable"), so no rank computes while another loads; rank 0 writes the file only after that.
    std::map<int64_t, std::pair<double, double>> loaded;
    if (fs::exists(file)) {
        auto f = SafetensorsFile::open(file.string());
        if (f.ok() && (*f)->metadata().count("fingerprint") && (*f)->metadata().at("fingerprint") == fingerprint) {
            MATRIX_TRY(auto t, load_tensors(file.string()));
            std::map<std::string, torch::Tensor> m(t.begin(), t.end());
            auto ids = m["pair_id"], c = m["chosen"], r = m["rejected"];
            for (int64_t i = 0; i < ids.size(0); ++i)
                loaded[ids[i].item<int64_t>()] = {c[i].item<double>(), r[i].item<double>()};
        }
    }
    bool use_loaded = !loaded.empty();
    if (s.pg) {
        auto flag = torch::tensor({use_loaded ? 0.0 : 1.0}, torch::kFloat64);
        MATRIX_CHECK(s.pg->all_reduce_sum(flag, "agreeing on the stored reference log-probs"));
        use_loaded = flag.item<double>() == 0.0;
    }
    if (use_loaded) {
        s.ref_logps = std::move(loaded);
        s.log("reference log-probs: loaded " + std::to_string(s.ref_logps.size()) + " from " + file.string());
        return {};
    }
    // Sharded: rank r computes pairs r, r + world, ...; an all-reduce of the [n, 2] table gives every rank all of them.
    auto t0 = Clock::now();
    const size_t n = s.dpo.samples.size();
    std::vector<size_t> mine;
    for (size_t i = static_cast<size_t>(s.rank); i < n; i += static_cast<size_t>(s.world)) mine.push_back(i);
    auto table = torch::zeros({static_cast<int64_t>(n), 2}, torch::kFloat64);
    auto acc = table.accessor<double, 2>();
    const size_t bs = static_cast<size_t>(s.cfg.batch_size);
    for (size_t i = 0; i < mine.size(); i += bs) {
        if (s.cb.cancel && s.cb.cancel->load()) return make_error("cancelled");
        std::vector<size_t> idx(mine.begin() + i, mine.begin() + std::min(mine.size(), i + bs));
        Status st;
        auto [c, r] = reference_logps(s, idx, &st);
        if (!st.ok()) return st;
        for (size_t k = 0; k < idx.size(); ++k) {
            acc[static_cast<int64_t>(idx[k])][0] = c[k].item<double>();
            acc[static_cast<int64_t>(idx[k])][1] = r[k].item<double>();
        }
    }
    if (s.pg) MATRIX_CHECK(s.pg->all_reduce_sum(table, "gathering the reference log-probs"));
    for (size_t i = 0; i < n; ++i)
        s.ref_logps[s.dpo.samples[i].pair_id] = {acc[static_cast<int64_t>(i)][0], acc[static_cast<int64_t>(i)][1]};
    if (!s.writer()) return {};
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
          fmt(std::chrono::duration<double>(Clock::now() - t0).count(), 3) + " s" +
          (s.world > 1 ? " (sharded over " + std::to_string(s.world) + " ranks)" : std::string()) + ", stored in " +
          file.string());
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

}  // namespace matrix::train::detail
