// The run's row in the project store: created (or found again on resume, config from the row) with the file lock
// on out_dir, the log, checkpoints recorded as they are written, and the final status with a summary; each rank's
// row in run_ranks (joined, heartbeats, final state). Also the small formatting helpers the log lines share.
#include "core/training/trainer_session.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/store/dataset_repo.h"
#include "core/store/provenance.h"
#include "core/store/run_rank_repo.h"
#include "core/store/run_repo.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train::detail {

void Session::log(const std::string& line) {
    if (!writer()) return;
    if (cb.on_log) cb.on_log(line);
    if (project && run_id) (void)store::RunRepo(project->db()).append_log(run_id, line + "\n");
}

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

std::string fmt(double v, int prec) {
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


Status open_run(Session& s) {
    std::vector<std::string> pending_notes;  // logged once the row is running
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
        // Resumed with another number of ranks: keep the global batch (grad_accum x ranks) where it divides evenly,
        // so the rest of the run trains as it would have.
        const int run_world = j.value("world_size", 1);
        if (run_world != s.world) {
            const int64_t global = static_cast<int64_t>(s.cfg.grad_accum) * run_world;
            std::string note = "resuming on " + std::to_string(s.world) + " rank(s) (the run had " +
                               std::to_string(run_world) + "): ";
            if (global % s.world == 0) {
                s.cfg.grad_accum = static_cast<int>(global / s.world);
                note += "grad_accum " + std::to_string(s.cfg.grad_accum) + " keeps the global batch";
            } else {
                note += "warning: " + std::to_string(global) + " micro-batches per step do not divide among them; "
                        "the global batch changes to " + std::to_string(static_cast<int64_t>(s.cfg.grad_accum) * s.world);
            }
            pending_notes.push_back(note);
            j["world_size"] = s.world;
            j["training"] = s.cfg.to_json();
            if (s.writer()) MATRIX_CHECK(store::RunRepo(s.project->db()).set_config(s.run_id, j.dump()));
        }
        if (s.req.extra_epochs && s.writer()) {
            // Keep the row's config in step with what the continued run trains.
            j["training"] = s.cfg.to_json();
            MATRIX_CHECK(store::RunRepo(s.project->db()).set_config(s.run_id, j.dump()));
            s.log("continuing for " + std::to_string(s.req.extra_epochs) + " more epoch(s): " +
                  std::to_string(s.cfg.epochs) + " in all");
        }
    } else {
        s.cfg = s.req.config;
    }
    MATRIX_CHECK(s.cfg.validate());
    if (!s.writer()) {  // other ranks read the run's settings; rank 0 owns the row, the lock and the files
        MATRIX_TRY(auto ds_other, datasets.find(s.req.dataset));
        if (!ds_other) return make_error("no dataset named '" + s.req.dataset + "' in " + s.req.db_path);
        s.dataset_id = ds_other->id;
        s.out_dir = s.req.out_dir;
        s.ckpt_dir = (fs::path(s.out_dir) / "checkpoints").string();
        return {};
    }
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
                          {"out_dir", s.out_dir},
                          {"world_size", s.world}}
                         .dump();
        run.dataset_id = s.dataset_id;
        run.model_path = s.req.model_dir;
        run.adapter_path = s.out_dir;
        MATRIX_TRY(s.run_id, runs.create(run));
        (void)store::ProvenanceRepo(s.project->db()).link("run", s.run_id, "dataset", s.dataset_id, "trained_on");
    }
    MATRIX_CHECK(runs.set_status(s.run_id, "running"));
    // A resumed run's ranks start afresh (maybe another number of them): cleared before any rank joins, since the
    // other ranks learn the run id from rank 0 only after this.
    MATRIX_CHECK(store::RunRankRepo(s.project->db()).clear(s.run_id));
    for (const auto& note : pending_notes) s.log(note);
    return {};
}

Status save_checkpoint(Session& s) {
    if (!s.writer()) return {};
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

Status join_rank(Session& s) {
    const HeartbeatInterval every = rank_heartbeat_interval();
    if (!every.error.empty()) return make_error(every.error);
    store::RunRank r;
    r.run_id = s.run_id;
    r.rank = s.rank;
    r.world_size = s.world;
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    r.host = host;
    r.pid = ::getpid();
    r.step = s.state.step;
    r.last_heartbeat = store::unix_now();
    r.heartbeat_every_s = every.seconds;
    MATRIX_CHECK(store::RunRankRepo(s.project->db()).put(r));
    s.rank_row = true;
    s.last_heartbeat = Clock::now();
    // Warnings come from the heartbeat thread: stderr only (the run's log in the store is the training thread's).
    s.heartbeat = std::make_unique<RankHeartbeat>(s.project->db().path(), s.run_id, s.rank, every.seconds,
                                                  [](const std::string& msg) { std::cerr << "warning: " << msg << std::endl; });
    return {};
}

void rank_heartbeat(Session& s, double tokens_per_s) {
    if (!s.rank_row) return;
    s.last_heartbeat = Clock::now();
    auto st = store::RunRankRepo(s.project->db()).heartbeat(s.run_id, s.rank, s.state.step, tokens_per_s,
                                                            store::unix_now());
    if (st.ok() || s.heartbeat_warned) return;
    s.heartbeat_warned = true;  // once: the run goes on, the GUI may show this rank as lost
    const std::string msg = "warning: rank " + std::to_string(s.rank) + " could not record its heartbeat: " +
                            st.error().to_string();
    if (s.writer()) s.log(msg);
    else std::cerr << msg << "\n";
}

void mark_lost_peers(Session& s) {
    if (!s.writer() || !s.pg || !s.project || !s.run_id) return;
    store::RunRankRepo ranks(s.project->db());
    for (const auto& [rank, pid] : s.pg->lost_peers())
        (void)ranks.finish(s.run_id, rank, "lost", std::nullopt,
                           "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") is gone");
}

Status finish_run(Session& s, const std::string& status, const std::optional<std::string>& error) {
    if (s.heartbeat) {
        s.heartbeat->stop();  // no beat after the final state below (touch would not write it anyway)
        s.heartbeat.reset();
    }
    if (s.rank_row) {
        (void)store::RunRankRepo(s.project->db()).finish(s.run_id, s.rank, status, s.state.step, error);
        s.rank_row = false;
    }
    if (!s.writer()) return {};
    store::RunRepo runs(s.project->db());
    json summary = {{"steps", s.state.step},     {"total_steps", s.state.total_steps}, {"tokens", s.state.tokens},
                    {"seconds", s.state.seconds}, {"out_dir", s.out_dir},  {"ranks", s.world}};
    if (!s.state.history.empty()) summary["last"] = s.state.history.back();
    (void)runs.set_summary(s.run_id, summary.dump());
    return runs.set_status(s.run_id, status, error);
}

}  // namespace matrix::train::detail
