// Running a synthesis stage: pending units, the worker pool, outcomes (see synth_job.h).
#include "core/synth/synth_job.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/agent/agent_job.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/synth/synth_context.h"

namespace matrix::synth {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace detail;

const std::vector<std::string>& synth_stages() {
    static const std::vector<std::string> stages = {"queries",      "files",        "images",
                                                    "verify-files", "trajectories", "verify-trajectories"};
    return stages;
}

bool is_synth_stage(const std::string& stage) {
    for (const auto& s : synth_stages())
        if (s == stage) return true;
    return false;
}

json SynthSettings::to_json() const {
    return {{"dataset", dataset}, {"stage", stage}, {"endpoint", endpoint}, {"model", model},
            {"temperature", temperature}, {"max_tokens", max_tokens}, {"seed", seed}, {"limit", limit},
            {"workers", workers}, {"budget_tokens", budget_tokens}, {"seed_dataset", seed_dataset},
            {"seed_file", seed_file}, {"seed_tasks", seed_tasks}, {"examples", examples}, {"per_round", per_round},
            {"image_pool", image_pool}, {"embeddings_endpoint", embeddings_endpoint},
            {"embeddings_model", embeddings_model}, {"caption_model", caption_model_dir},
            {"embeddings_model_dir", embeddings_model_dir}, {"tools", tools},
            {"max_steps", max_steps}};
}

namespace {

// Units of `stage` not finished yet, in task order.
Result<std::vector<Unit>> pending_units(store::Database& db, const Job& job) {
    std::vector<Unit> units;
    const std::string& stage = job.s.stage;
    if (stage == "queries") {
        const int rounds = job.s.limit > 0 ? job.s.limit : 1;
        MATRIX_TRY(store::Statement st,
                   db.prepare("SELECT 1 FROM synth_items WHERE dataset_id=? AND stage='queries' AND item_key=?"));
        for (int r = 0; r < rounds; ++r) {
            const std::string key = "round-" + std::to_string(r);
            st.reset();
            st.bind_all(job.dataset_id, key);
            MATRIX_TRY(bool row, st.step());
            if (!row) units.push_back({key, 0, r});
        }
        return units;
    }
    MATRIX_TRY(std::vector<int64_t> ids, synth_stage_tasks(db, job.s.dataset, stage, "pending"));
    for (int64_t id : ids) units.push_back({"task-" + std::to_string(id), id, -1});
    if (job.s.limit > 0 && static_cast<int>(units.size()) > job.s.limit) units.resize(job.s.limit);
    return units;
}

Result<int64_t> paid_so_far(store::Database& db, int64_t dataset_id) {
    MATRIX_TRY(store::Statement st, db.prepare("SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM "
                                               "synth_usage WHERE dataset_id=? AND cached=0"));
    st.bind_all(dataset_id);
    MATRIX_TRY(bool row, st.step());
    return row ? st.column_int64(0) : 0;
}

std::string media_root_for(const std::string& db_path) {
    std::error_code ec;
    const fs::path p = fs::absolute(db_path, ec);
    return (p.parent_path() / (p.stem().string() + ".media")).string();
}

}  // namespace

Result<StageOutcome> run_stage(const std::string& db_path, const SynthSettings& settings, const SynthEvents& events,
                               const std::atomic<bool>* cancel) {
    if (!is_synth_stage(settings.stage)) return make_error("unknown stage '" + settings.stage + "'");
    if (settings.endpoint.empty()) return make_error("synthesis needs the teacher's endpoint (--endpoint URL)");
    if (settings.model.empty()) return make_error("synthesis needs the teacher's model name (--endpoint-model NAME)");
    if (settings.dataset.empty()) return make_error("synthesis needs an output dataset name");
    store::OpenOptions open;
    open.create = false;
    open.busy_timeout_ms = 60000;
    MATRIX_TRY(store::Project project, store::Project::open(db_path, open));
    store::DatasetRepo datasets(project.db());
    MATRIX_TRY(store::Dataset ds, datasets.find_or_create(settings.dataset, "mtrace"));
    if (ds.kind != "mtrace")
        return make_error("dataset '" + settings.dataset + "' is a " + ds.kind + " dataset, not an M-TRACE one");

    Job job;
    job.s = settings;
    job.s.workers = std::max(1, settings.workers);
    job.db_path = db_path;
    job.dataset_id = ds.id;
    job.cancel = cancel;
    job.media_root = media_root_for(db_path);
    job.work_root = (fs::path(agent::default_runs_folder(db_path)) / ("synth-" + settings.dataset)).string();
    if (!job.s.sandbox.work_dir.empty()) job.work_root = job.s.sandbox.work_dir;
    if (ds.image_roots.empty() || ds.image_roots.front() != job.media_root)
        MATRIX_CHECK(datasets.set_image_roots(ds.id, {job.media_root}));
    MATRIX_TRY(job.paid_tokens, paid_so_far(project.db(), ds.id));

    MATRIX_TRY(auto cache, store::RequestCacheRepo::open(db_path));
    job.cache = std::shared_ptr<store::RequestCacheRepo>(std::move(cache));
    net::ChatClientConfig cc;
    cc.url = settings.endpoint;
    cc.model = settings.model;
    cc.api_key_env = settings.api_key_env;
    cc.timeout_ms = settings.timeout_ms;
    cc.retry.max_attempts = std::max(1, settings.retry_attempts);
    cc.retry.base_delay_ms = settings.retry_base_delay_ms;
    cc.retry.max_delay_ms = std::max(settings.retry_base_delay_ms, 30000);
    cc.max_concurrency = job.s.workers;
    cc.cache = job.cache;
    job.client = std::make_unique<net::ChatClient>(cc);

    const std::string& stage = settings.stage;
    if (stage == "queries") MATRIX_CHECK(prepare_queries(job, project.db()));
    if (stage == "images") MATRIX_CHECK(prepare_images(job, project.db()));
    if (stage == "trajectories") MATRIX_CHECK(prepare_trajectories(job, project.db()));
    if (stage == "images" && job.lexical && events.on_note)
        events.on_note("images: no embeddings endpoint or local embedding model, so the lexical fallback (word "
                       "overlap) ranks the captions");
    if (events.on_note)
        for (const std::string& n : job.notes) events.on_note(n);
    MATRIX_TRY(std::vector<Unit> units, pending_units(project.db(), job));
    StageOutcome outcome;
    outcome.units = static_cast<int>(units.size());
    std::atomic<size_t> next{0};
    std::mutex event_mutex;
    std::optional<Error> fatal;
    const auto t0 = std::chrono::steady_clock::now();
    int finished = 0;

    auto worker = [&]() {
        store::OpenOptions o;
        o.create = false;
        o.busy_timeout_ms = 60000;
        auto wp = store::Project::open(db_path, o);
        if (!wp.ok()) {
            std::lock_guard<std::mutex> lock(event_mutex);
            if (!fatal) fatal = wp.error();
            return;
        }
        store::Database& db = wp->db();
        std::unique_ptr<TeacherController> controller;
        std::optional<agent::ToolRegistry> tools;
        if (stage == "trajectories") {
            controller = std::make_unique<TeacherController>(job, db);
            auto host = agent::tool_host_for(controller.get());
            if (!host.ok()) {
                std::lock_guard<std::mutex> lock(event_mutex);
                if (!fatal) fatal = host.error();
                return;
            }
            auto t = agent::agent_tool_registry(job.run_settings.tools, *host);
            if (!t.ok()) {
                std::lock_guard<std::mutex> lock(event_mutex);
                if (!fatal) fatal = t.error();
                return;
            }
            tools = std::move(t).value();
        }
        for (;;) {
            if (job.cancelled() || job.budget_hit.load()) return;
            {
                std::lock_guard<std::mutex> lock(event_mutex);
                if (fatal) return;
            }
            const size_t i = next.fetch_add(1);
            if (i >= units.size()) return;
            const Unit& unit = units[i];
            Result<UnitResult> r = make_error("no stage");
            if (stage == "queries") r = run_query_round(job, db, unit);
            else if (stage == "files") r = run_files(job, db, unit);
            else if (stage == "images") r = run_images(job, db, unit);
            else if (stage == "verify-files") r = run_verify_files(job, db, unit);
            else if (stage == "trajectories") r = run_trajectory(job, db, unit, *controller, *tools);
            else r = run_verify_trajectory(job, db, unit);
            SynthItemReport rep;
            rep.stage = stage;
            rep.item_key = unit.key;
            rep.task_id = unit.task_id;
            if (r.ok()) {
                rep.status = r->status;
                rep.n_out = r->n_out;
                rep.n_rejected = r->n_rejected;
                rep.reason = r->reason;
            } else if (is_budget_error(r.error()) || is_cancelled_error(r.error())) {
                continue;  // the loop ends at its top
            } else {
                rep.status = "failed";
                rep.reason = (is_infrastructure(r.error()) ? "infrastructure: " : "") + r.error().to_string();
            }
            std::lock_guard<std::mutex> lock(event_mutex);
            if (rep.status == "done") ++outcome.done;
            else if (rep.status == "rejected") ++outcome.rejected;
            else ++outcome.failed;
            ++finished;
            rep.done = finished;
            rep.total = outcome.units;
            rep.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (finished > 0) rep.eta_s = rep.elapsed_s / finished * (outcome.units - finished);
            if (events.on_item) events.on_item(rep);
        }
    };
    const int n_threads = std::min<int>(job.s.workers, std::max<int>(1, static_cast<int>(units.size())));
    std::vector<std::thread> threads;
    for (int t = 0; t < n_threads; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    if (fatal) return *fatal;
    outcome.paid_tokens = job.paid_tokens.load();
    if (job.budget_hit.load()) {
        outcome.status = "paused";
        outcome.refused_tokens = job.refused_tokens;
        outcome.note = "token budget reached (" + std::to_string(outcome.paid_tokens) + " of " +
                       std::to_string(settings.budget_tokens) + " paid tokens; the next request could take up to " +
                       std::to_string(job.refused_tokens) + "): raise --budget-tokens and run again";
    } else if (job.cancelled()) {
        outcome.status = "cancelled";
    } else {
        outcome.status = "finished";
        if (outcome.failed > 0)
            outcome.note = std::to_string(outcome.failed) + " unit(s) failed and stay pending: run the stage again";
    }
    return outcome;
}

}  // namespace matrix::synth
