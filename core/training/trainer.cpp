// run_training: the SFT / DPO loop over the Qwen2-VL engine (core/model), the data of training_data.h and the
// run bookkeeping of the store. Reads top to bottom: set up (store row, model, LoRA, data, optimiser, resume)
// -> loop {batch, forward, loss, backward, step, log, eval, checkpoint} -> save adapter.
// Determinism (CPU): data order is a pure function of (seed, epoch), LoRA init is seeded, dropout draws from the
// CPU generator whose state each checkpoint stores, so a resumed run repeats the uninterrupted one's losses.
// Data parallel (distributed.h), when started with the torchrun environment: each optimiser step takes
// grad_accum x world micro-batches of the one seed-given order, rank r those at r, r + world, ...; gradients are
// summed over ranks by the GradReducer, so every rank takes the same optimiser step; rank 0 alone writes.
#include "core/training/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/store/run_repo.h"
#include "core/training/cpu_allocator.h"
#include "core/training/trainer_session.h"
#include "core/util/json_input.h"
#include "core/util/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train {

using namespace detail;

namespace {

// Test hook (test_rank_heartbeat): MATRIX_TEST_HOLD_STEP="N:FILE" makes optimiser step N last while FILE exists,
// as a step of many minutes would; it creates FILE.held when the hold begins. Unset: nothing.
void hold_step_for_tests(int64_t step) {
    static const std::string spec = [] {
        const char* v = std::getenv("MATRIX_TEST_HOLD_STEP");
        return std::string(v ? v : "");
    }();
    const size_t colon = spec.find(':');
    if (colon == std::string::npos || spec.substr(0, colon) != std::to_string(step)) return;
    const std::string file = spec.substr(colon + 1);
    std::ofstream(file + ".held") << step << "\n";
    while (fs::exists(file)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// ---- the loop -----------------------------------------------------------------------------------------

Result<TrainOutcome> train_loop(Session& s) {
    TrainOutcome outcome;
    outcome.run_id = s.run_id;
    outcome.samples = static_cast<int64_t>(s.train_idx.size());
    const int64_t per_epoch = steps_per_epoch(s);
    // max_steps follows HF Trainer / LLaMA-Factory: when set it overrides epochs (the data is cycled, a new epoch
    // starting with its own order, until max_steps optimiser steps are done).
    const int64_t total = s.cfg.max_steps > 0 ? s.cfg.max_steps : per_epoch * s.cfg.epochs;
    const int64_t n_epochs = s.cfg.max_steps > 0 ? (total + per_epoch - 1) / per_epoch : s.cfg.epochs;
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
          std::to_string(s.cfg.grad_accum) + (s.world > 1 ? " x " + std::to_string(s.world) + " ranks" : std::string()) +
          ")");
    if (s.pg) {
        // Every rank starts from rank 0's adapter (the same seed gives the same one; a resume reads the same file).
        std::vector<torch::Tensor> params;
        for (auto& p : s.trainable) params.push_back(p.tensor);
        {
            torch::NoGradGuard ng;
            auto flat = torch::cat([&] {
                std::vector<torch::Tensor> v;
                for (auto& p : params) v.push_back(p.detach().reshape({-1}));
                return v;
            }());
            MATRIX_CHECK(s.pg->broadcast(flat, 0, "broadcasting rank 0's adapter"));
            int64_t off = 0;
            for (auto& p : params) {
                p.detach().copy_(flat.narrow(0, off, p.numel()).view(p.sizes()));
                off += p.numel();
            }
        }
        s.reducer = std::make_unique<GradReducer>(*s.pg, params, dist_bucket_bytes());
        s.log("data-parallel: " + std::to_string(s.world) + " ranks over " + s.pg->backend() + ", LoRA gradients all-reduced in " +
              std::to_string(s.reducer->n_buckets()) + " bucket(s) launched from gradient hooks during backward");
    }
    if (s.req.stage == Stage::Dpo && s.cfg.precompute_reference) {
        MATRIX_CHECK(precompute_reference(s));
        rank_heartbeat(s, 0);
    }

    store::RunRepo runs(s.project->db());
    (*s.net)->train();
    // With several ranks, the step's metrics, token counts and the pause/cancel requests are summed over ranks in one
    // all-reduce: [loss, tokens, samples, pause, cancel, DPO metrics...].
    const std::vector<std::string> metric_keys =
        s.req.stage == Stage::Dpo ? std::vector<std::string>{"rewards/chosen", "rewards/rejected", "rewards/margin", "rewards/accuracy"}
                                  : std::vector<std::string>{};
    const auto t_start = Clock::now();
    const double seconds_before = s.state.seconds;
    const int64_t tokens_before = s.state.tokens;
    int64_t window_tokens = 0, window_samples = 0;
    auto window_start = Clock::now();
    // This rank's own tokens since the loop started, for its tokens/s (averaged over the whole session: a rank can
    // have no micro-batch in a step, so a per-step window would often read 0).
    int64_t rank_tokens = 0;
    const int64_t n_micro = micro_per_epoch(s);
    const int64_t first_step = s.state.step;

    for (; s.state.epoch < n_epochs && s.state.step < total; ++s.state.epoch, s.state.micro = 0) {
        const auto order = epoch_order(s, s.state.epoch);
        while (s.state.micro < n_micro && s.state.step < total) {
            // One optimiser step = up to grad_accum x world micro-batches; rank r takes those at r, r + world, ...
            // Each loss is divided by the step's micro-batch count over all ranks, so the summed gradient is the
            // single-process gradient of the same global batch.
            hold_step_for_tests(s.state.step + 1);
            const int64_t group = std::min<int64_t>(micro_per_step(s), n_micro - s.state.micro);
            double loss_sum = 0;
            std::map<std::string, double> metric_sum;
            int64_t step_tokens = 0, step_samples = 0;
            int64_t last_mine = -1;
            for (int64_t g = s.rank; g < group; g += s.world) last_mine = g;
            for (int64_t g = 0; g < group; ++g) {
                if (g % s.world != s.rank) continue;
                const size_t lo = static_cast<size_t>((s.state.micro + g) * s.cfg.batch_size);
                std::vector<size_t> idx(order.begin() + lo,
                                        order.begin() + std::min(order.size(), lo + static_cast<size_t>(s.cfg.batch_size)));
                MATRIX_TRY(auto r, micro_step(s, idx));
                const double lv = r.loss.item<double>();
                if (!std::isfinite(lv))
                    return make_error("loss is " + std::string(std::isnan(lv) ? "NaN" : "infinite") + " at step " +
                                      std::to_string(s.state.step + 1) + " (lower lr, check the data); checkpoints up to step " +
                                      std::to_string(s.state.step) + " are kept");
                if (s.reducer && g == last_mine) s.reducer->arm();
                (r.loss / static_cast<double>(group)).backward();
                loss_sum += lv;
                for (auto& [k, v] : r.metrics) metric_sum[k] += v;
                step_tokens += r.tokens;
                step_samples += r.samples;
            }
            s.state.micro += group;
            rank_tokens += step_tokens;  // before the all-reduce: this rank's micro-batches only
            bool pause_req = s.cb.pause && s.cb.pause->load(), cancel_req = s.cb.cancel && s.cb.cancel->load();
            if (s.pg) {
                const std::string what = "all-reduce of step " + std::to_string(s.state.step + 1) + "'s gradients";
                MATRIX_CHECK(s.reducer->finish(what));
                std::vector<double> v = {loss_sum, double(step_tokens), double(step_samples), pause_req ? 1.0 : 0.0,
                                         cancel_req ? 1.0 : 0.0};
                for (const auto& k : metric_keys) v.push_back(metric_sum[k]);
                auto t = torch::tensor(v, torch::kFloat64);
                MATRIX_CHECK(s.pg->all_reduce_sum(t, "all-reduce of step " + std::to_string(s.state.step + 1) + "'s metrics"));
                auto a = t.accessor<double, 1>();
                loss_sum = a[0];
                step_tokens = static_cast<int64_t>(a[1]);
                step_samples = static_cast<int64_t>(a[2]);
                pause_req = a[3] > 0;
                cancel_req = a[4] > 0;
                for (size_t i = 0; i < metric_keys.size(); ++i) metric_sum[metric_keys[i]] = a[5 + static_cast<int64_t>(i)];
            }
            window_tokens += step_tokens;
            window_samples += step_samples;
            s.state.tokens += step_tokens;
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
            if (s.writer() && (s.state.step % s.cfg.log_every == 0 || s.state.step == total)) {
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
            if (s.cb.on_step && s.writer()) s.cb.on_step(rep);
            // Every rank's heartbeat: at logged steps, and at least every kHeartbeatEverySeconds.
            if (s.state.step % s.cfg.log_every == 0 || s.state.step == total ||
                std::chrono::duration<double>(Clock::now() - s.last_heartbeat).count() >= kHeartbeatEverySeconds) {
                const double rank_s = std::chrono::duration<double>(Clock::now() - t_start).count();
                rank_heartbeat(s, rank_s > 0 ? static_cast<double>(rank_tokens) / rank_s : 0);
            }
            outcome.last_metrics = rep.metrics;
            outcome.last_metrics["loss"] = loss;

            if (s.cb.simulate_kill_after_step && s.state.step == s.cb.simulate_kill_after_step) {
                outcome.status = "killed";
                outcome.steps = s.state.step;
                return outcome;
            }
            const bool epoch_end = s.state.micro >= n_micro;
            // Evaluate every N.
            if (s.writer() && !s.eval_idx.empty() && ((s.cfg.eval_every > 0 && s.state.step % s.cfg.eval_every == 0) ||
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
            const bool pausing = pause_req;
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
            if (cancel_req) {
                outcome.status = "cancelled";
                outcome.steps = s.state.step;
                s.log("cancelled at step " + std::to_string(s.state.step));
                MATRIX_CHECK(finish_run(s, "cancelled"));
                return outcome;
            }
        }
    }

    // Save the adapter (and a last checkpoint for "continue for N more epochs"): rank 0.
    if (!s.writer()) {
        MATRIX_CHECK(finish_run(s, "finished"));
        outcome.status = "finished";
        outcome.steps = s.state.step;
        outcome.seconds = s.state.seconds;
        outcome.tokens = s.state.tokens - tokens_before;
        return outcome;
    }
    if (fs::path(latest_checkpoint(s.ckpt_dir)).filename().string() != "checkpoint-" + std::to_string(s.state.step))
        MATRIX_CHECK(save_checkpoint(s));
    MATRIX_CHECK(save_peft_adapter(s.out_dir, lora_pairs(**s.net), lora_spec(s)));
    if (s.reducer)
        s.log("gradient all-reduce: " + std::to_string(s.reducer->n_launched_in_backward()) + " of " +
              std::to_string(s.reducer->n_launched()) + " bucket launches made from hooks during backward");
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
            mark_lost_peers(s);
        }
        return e;
    };
    try {
        auto env = dist_env_from_environment();
        if (!env.ok()) return fail(env.error());
        if (*env && (*env)->world_size > 1) {
            s.rank = (*env)->rank;
            s.world = (*env)->world_size;
        }
        if (auto st = open_run(s); !st.ok()) return fail(st.error().within("starting run"));
        if (s.world > 1) {
            auto pg = ProcessGroup::join(**env, s.cfg.device, dist_timeout());
            if (!pg.ok()) return fail(pg.error());
            s.pg = std::move(pg).value();
            auto id = torch::tensor({s.run_id}, torch::kInt64);
            if (auto st = s.pg->broadcast(id, 0, "broadcasting the run id"); !st.ok()) return fail(st.error());
            s.run_id = id.item<int64_t>();
            if (s.cfg.device.rfind("cuda", 0) == 0 && s.cfg.device.find(':') == std::string::npos)
                s.cfg.device = "cuda:" + std::to_string((*env)->local_rank);  // one GPU per local rank
        }
        if (auto st = join_rank(s); !st.ok()) return fail(st.error().within("recording rank " + std::to_string(s.rank)));
        if (auto st = build_model(s); !st.ok()) return fail(st.error().within("building the model"));
        if (s.device.is_cpu())
            if (const std::string note = keep_freed_memory_for_reuse(); !note.empty()) s.log(note);
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
