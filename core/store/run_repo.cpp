// Run rows, metric series, checkpoints, snapshots and results (see run_repo.h).
#include "core/store/run_repo.h"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/util/file_lock.h"

namespace matrix::store {

namespace {
const char* kRunCols = "id, kind, name, status, config, dataset_id, benchmark, model_path, adapter_path, "
                       "parent_run_id, created_at, started_at, finished_at, error, log, summary";
Run read_run(const Statement& st) {
    Run r;
    r.id = st.column_int64(0);
    r.kind = st.column_text(1);
    r.name = st.column_text(2);
    r.status = st.column_text(3);
    r.config = st.column_text(4);
    r.dataset_id = st.column_optional_int64(5);
    r.benchmark = st.column_optional_text(6);
    r.model_path = st.column_optional_text(7);
    r.adapter_path = st.column_optional_text(8);
    r.parent_run_id = st.column_optional_int64(9);
    r.created_at = st.column_text(10);
    r.started_at = st.column_optional_text(11);
    r.finished_at = st.column_optional_text(12);
    r.error = st.column_optional_text(13);
    r.log = st.column_text(14);
    r.summary = st.column_text(15);
    return r;
}
Checkpoint read_checkpoint(const Statement& st) {
    Checkpoint c;
    c.id = st.column_int64(0);
    c.run_id = st.column_int64(1);
    c.step = st.column_int64(2);
    c.path = st.column_text(3);
    c.sha256 = st.column_optional_text(4);
    c.extra = st.column_optional_text(5);
    c.created_at = st.column_text(6);
    return c;
}

// The job this process runs as, when it writes to that job's project (see RunRepo::create); 0 otherwise.
int64_t job_of_this_process(const std::string& db_path) {
    const char* id = std::getenv("MATRIX_JOB_ID");
    const char* db = std::getenv("MATRIX_JOB_DB");
    if (!id || !db || !*id || !*db || db_path.empty()) return 0;
    std::error_code ec;
    if (!std::filesystem::equivalent(db, db_path, ec) || ec) return 0;
    char* end = nullptr;
    const long long v = std::strtoll(id, &end, 10);
    return end && *end == '\0' && v > 0 ? int64_t(v) : 0;
}
}  // namespace

Result<int64_t> RunRepo::create(const Run& r) {
    Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(Statement st, m_db.prepare("INSERT INTO runs(kind, name, status, config, dataset_id, benchmark, "
                                          "model_path, adapter_path, parent_run_id, log, summary) "
                                          "VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
    st.bind_all(r.kind, r.name, r.status, r.config, r.dataset_id, r.benchmark, r.model_path, r.adapter_path,
                r.parent_run_id, r.log, r.summary);
    if (auto s = st.run(); !s.ok()) return s.error().within("creating run '" + r.name + "'");
    const int64_t id = m_db.last_insert_rowid();
    if (const int64_t job = job_of_this_process(m_db.path())) {
        MATRIX_TRY(Statement link, m_db.prepare("UPDATE jobs SET run_id=? WHERE id=? AND run_id IS NULL"));
        link.bind_all(id, job);
        if (auto s = link.run(); !s.ok()) return s.error().within("linking run " + std::to_string(id) + " to job " +
                                                                   std::to_string(job));
    }
    MATRIX_CHECK(tx.commit());
    return id;
}

Result<std::optional<Run>> RunRepo::get(int64_t id) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kRunCols + " FROM runs WHERE id=?"));
    st.bind(1, id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<Run>();
    return std::optional<Run>(read_run(st));
}

Result<std::vector<Run>> RunRepo::list(const std::optional<std::string>& kind) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kRunCols + " FROM runs" +
                                          (kind ? " WHERE kind=?" : "") + " ORDER BY id DESC"));
    if (kind) st.bind(1, *kind);
    std::vector<Run> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_run(st));
    }
    return out;
}

Result<std::vector<int64_t>> RunRepo::ids(const std::string& kind) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id FROM runs WHERE kind = ?1 ORDER BY id DESC"));
    st.bind(1, kind);
    std::vector<int64_t> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_int64(0));
    }
    return out;
}

Status RunRepo::set_status(int64_t id, const std::string& status, const std::optional<std::string>& error) {
    const bool final = status == "finished" || status == "failed" || status == "cancelled";
    MATRIX_TRY(Statement st, m_db.prepare(
                                 "UPDATE runs SET status=?1, "
                                 "started_at = CASE WHEN ?1='running' AND started_at IS NULL THEN ?2 ELSE started_at END, "
                                 "finished_at = CASE WHEN ?3 THEN ?2 WHEN ?1='running' THEN NULL ELSE finished_at END, "
                                 // a run going (again) has no error: an old one stays in the log only
                                 "error = CASE WHEN ?1='running' THEN ?4 ELSE COALESCE(?4, error) END WHERE id=?5"));
    st.bind_all(status, now_iso8601(), final, error, id);
    MATRIX_CHECK(st.run());
    if (m_db.changes() == 0) return make_error("no run " + std::to_string(id));
    return {};
}

Status RunRepo::append_log(int64_t id, const std::string& text) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE runs SET log = log || ? WHERE id=?"));
    st->bind_all(text, id);
    return st->run();
}

Status RunRepo::set_summary(int64_t id, const std::string& summary_json) {
    MATRIX_TRY(Statement st, m_db.prepare("UPDATE runs SET summary=? WHERE id=?"));
    st.bind_all(summary_json, id);
    return st.run();
}

Status RunRepo::set_config(int64_t id, const std::string& config_json) {
    MATRIX_TRY(Statement st, m_db.prepare("UPDATE runs SET config=? WHERE id=?"));
    st.bind_all(config_json, id);
    return st.run();
}

Status RunRepo::set_paths(int64_t id, const std::optional<std::string>& model_path,
                          const std::optional<std::string>& adapter_path) {
    MATRIX_TRY(Statement st, m_db.prepare("UPDATE runs SET model_path=?, adapter_path=? WHERE id=?"));
    st.bind_all(model_path, adapter_path, id);
    return st.run();
}

Status RunRepo::append_metric(int64_t run_id, const std::string& name, int64_t step, double value) {
    MATRIX_TRY(Statement * st,
               m_db.cached("INSERT OR REPLACE INTO run_metrics(run_id, name, step, value) VALUES(?,?,?,?)"));
    st->bind_all(run_id, name, step, value);
    return st->run();
}

Status RunRepo::append_metrics(int64_t run_id, int64_t step, const std::vector<std::pair<std::string, double>>& values) {
    Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    for (const auto& [name, value] : values) MATRIX_CHECK(append_metric(run_id, name, step, value));
    return tx.commit();
}

Result<std::vector<std::string>> RunRepo::metric_names(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT DISTINCT name FROM run_metrics WHERE run_id=? ORDER BY name"));
    st.bind(1, run_id);
    std::vector<std::string> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_text(0));
    }
    return out;
}

Result<std::vector<MetricPoint>> RunRepo::metric_series(int64_t run_id, const std::string& name, int64_t after_step) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT step, value FROM run_metrics WHERE run_id=? AND name=? AND step>? "
                                           "ORDER BY step"));
    st->bind_all(run_id, name, after_step);
    std::vector<MetricPoint> out;
    for (;;) {
        MATRIX_TRY(bool row, st->step());
        if (!row) break;
        out.push_back({st->column_int64(0), st->column_double(1)});
    }
    st->reset();
    return out;
}

Result<int64_t> RunRepo::add_checkpoint(const Checkpoint& c) {
    MATRIX_TRY(Statement st, m_db.prepare("INSERT INTO checkpoints(run_id, step, path, sha256, extra) VALUES(?,?,?,?,?)"));
    st.bind_all(c.run_id, c.step, c.path, c.sha256, c.extra);
    MATRIX_CHECK(st.run());
    return m_db.last_insert_rowid();
}

std::string training_run_lock_path(const std::string& out_dir) { return out_dir + "/.matrix-training.lock"; }

Result<std::vector<int64_t>> RunRepo::mark_interrupted_runs() {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id, config FROM runs WHERE status='running' AND kind IN ('sft','dpo')"));
    std::vector<std::pair<int64_t, std::string>> running;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        running.emplace_back(st.column_int64(0), st.column_text(1));
    }
    std::vector<int64_t> marked;
    for (const auto& [id, config] : running) {
        const auto j = nlohmann::json::parse(config, nullptr, false);
        const std::string out_dir = j.is_object() ? j.value("out_dir", std::string()) : std::string();
        if (out_dir.empty() || file_lock_held(training_run_lock_path(out_dir))) continue;
        MATRIX_CHECK(set_status(id, "failed",
                                "interrupted: the training process ended without finishing (killed, crashed or the "
                                "machine restarted); `matrix train resume --resume " + std::to_string(id) +
                                    "` continues from its last checkpoint"));
        marked.push_back(id);
    }
    return marked;
}

Result<int> RunRepo::prune_missing_checkpoints(int64_t run_id) {
    MATRIX_TRY(auto all, checkpoints(run_id));
    int removed = 0;
    for (const Checkpoint& c : all) {
        std::error_code ec;
        if (std::filesystem::exists(c.path, ec)) continue;
        MATRIX_TRY(Statement del, m_db.prepare("DELETE FROM checkpoints WHERE id=?"));
        del.bind(1, c.id);
        MATRIX_CHECK(del.run());
        MATRIX_TRY(Statement prov, m_db.prepare("DELETE FROM provenance WHERE to_kind='checkpoint' AND to_id=?"));
        prov.bind(1, c.id);
        MATRIX_CHECK(prov.run());
        ++removed;
    }
    return removed;
}

Result<std::vector<Checkpoint>> RunRepo::checkpoints(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id, run_id, step, path, sha256, extra, created_at FROM checkpoints "
                                          "WHERE run_id=? ORDER BY step, id"));
    st.bind(1, run_id);
    std::vector<Checkpoint> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_checkpoint(st));
    }
    return out;
}

Result<std::optional<Checkpoint>> RunRepo::latest_checkpoint(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id, run_id, step, path, sha256, extra, created_at FROM checkpoints "
                                          "WHERE run_id=? ORDER BY step DESC, id DESC LIMIT 1"));
    st.bind(1, run_id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<Checkpoint>();
    return std::optional<Checkpoint>(read_checkpoint(st));
}

Status RunRepo::add_samples(int64_t run_id, const std::vector<RunSample>& samples) {
    Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(Statement st, m_db.prepare("INSERT OR REPLACE INTO run_samples(run_id, item_kind, item_id, content_hash) "
                                          "VALUES(?,?,?,?)"));
    for (const auto& s : samples) {
        st.bind_all(run_id, s.item_kind, s.item_id, s.content_hash);
        MATRIX_CHECK(st.run());
    }
    return tx.commit();
}

Result<std::vector<RunSample>> RunRepo::samples(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT item_kind, item_id, content_hash FROM run_samples WHERE run_id=? "
                                          "ORDER BY item_kind, item_id"));
    st.bind(1, run_id);
    std::vector<RunSample> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back({st.column_text(0), st.column_int64(1), st.column_text(2)});
    }
    return out;
}

Result<int64_t> RunRepo::put_result(const RunResult& r) {
    MATRIX_TRY(Statement * st,
               m_db.cached("INSERT INTO run_results(run_id, task_id, task_key, answer, scores, trajectory_id, error, "
                           "extra) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(run_id, task_key) DO UPDATE SET "
                           "task_id=excluded.task_id, answer=excluded.answer, scores=excluded.scores, "
                           "trajectory_id=excluded.trajectory_id, error=excluded.error, extra=excluded.extra"));
    // answer and extra (a run's long answer, its steps) without SQLite's copy: `r` outlives run().
    st->bind_all(r.run_id, r.task_id, r.task_key);
    st->bind_static(4, r.answer).bind(5, r.scores).bind(6, r.trajectory_id).bind(7, r.error).bind_static(8, r.extra);
    MATRIX_CHECK(st->run());
    MATRIX_TRY(Statement * id, m_db.cached("SELECT id FROM run_results WHERE run_id=? AND task_key=?"));
    id->bind_all(r.run_id, r.task_key);
    MATRIX_TRY(bool row, id->step());
    int64_t v = row ? id->column_int64(0) : 0;
    id->reset();
    return v;
}

Result<std::vector<RunResult>> RunRepo::results(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id, run_id, task_id, task_key, answer, scores, trajectory_id, error, "
                                          "extra FROM run_results WHERE run_id=? ORDER BY id"));
    st.bind(1, run_id);
    std::vector<RunResult> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        RunResult r;
        r.id = st.column_int64(0);
        r.run_id = st.column_int64(1);
        r.task_id = st.column_optional_int64(2);
        r.task_key = st.column_text(3);
        r.answer = st.column_optional_text(4);
        r.scores = st.column_text(5);
        r.trajectory_id = st.column_optional_int64(6);
        r.error = st.column_optional_text(7);
        r.extra = st.column_optional_text(8);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace matrix::store
