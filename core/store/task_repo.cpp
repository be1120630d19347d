// Task rows: paged browser queries and inserts (see task_repo.h). The browser's filters map to indexed columns
// (tasks.n_steps, verdict, counters) or to EXISTS over indexed child tables (tool_calls(task_id, name),
// pairs(task_id)), so a page of 100 needs only as many row checks as it takes to find 100 matches.
#include "core/store/task_repo.h"

#include <variant>

#include "core/store/fts.h"
#include "core/util/sha256.h"

namespace matrix::store {

namespace {

using Param = std::variant<int64_t, std::string>;

struct Where {
    std::string from = " FROM tasks t";
    std::string sql;
    std::vector<Param> params;
    bool fts = false;
    void add(const std::string& cond) { sql += (sql.empty() ? " WHERE " : " AND ") + cond; }
};

Where build_where(const TaskFilter& f, bool scan_in_order = true) {
    Where w;
    std::string match = fts_query_from_text(f.text);
    if (!f.text.empty()) {
        w.fts = true;
        // A text with no searchable word matches nothing (rather than everything).
        w.from = " FROM task_fts f JOIN tasks t ON t.id = f.rowid";
        w.add("f.task_fts MATCH ?");
        w.params.push_back(match.empty() ? std::string("\"\"") : match);
    }
    if (f.dataset_id) {
        w.add("t.dataset_id = ?");
        w.params.push_back(*f.dataset_id);
    }
    if (!f.tool.empty()) {
        // Pages in id / ordinal order scan tasks in that order and stop after `limit` matches: a correlated
        // EXISTS per row. Sorted by anything else (or counted), every match is needed: IN drives from
        // tool_calls(name, task_id) instead of probing every task.
        if (scan_in_order)
            w.add("EXISTS(SELECT 1 FROM tool_calls c WHERE c.task_id = t.id AND c.name = ?)");
        else
            w.add("t.id IN (SELECT c.task_id FROM tool_calls c WHERE c.name = ?)");
        w.params.push_back(f.tool);
    }
    // In-order pages: a unary '+' keeps the planner on the (dataset_id, ordinal) scan that can stop after one
    // page, instead of a range scan on (dataset_id, n_steps) followed by a sort of every match.
    const char* plus = scan_in_order ? "+" : "";
    if (f.verdict) {
        w.add("t.verdict = ?");
        w.params.push_back(*f.verdict);
    }
    if (f.min_steps) {
        w.add(std::string(plus) + "t.n_steps >= ?");
        w.params.push_back(int64_t(*f.min_steps));
    }
    if (f.max_steps) {
        w.add(std::string(plus) + "t.n_steps <= ?");
        w.params.push_back(int64_t(*f.max_steps));
    }
    if (f.has_missing_media) w.add(*f.has_missing_media ? "t.n_missing_media > 0" : "t.n_missing_media = 0");
    if (f.has_images) w.add(*f.has_images ? "t.n_images > 0" : "t.n_images = 0");
    if (f.pair_status && !f.pairs_dataset_id) {
        w.add("EXISTS(SELECT 1 FROM pairs p WHERE p.task_id = t.id AND p.status = ?)");
        w.params.push_back(*f.pair_status);
    }
    if (f.pairs_dataset_id) {
        // Driven from the pair dataset's rows (pairs_dataset_status index), which are few next to the tasks.
        if (f.pair_status) {
            w.add("t.id IN (SELECT p.task_id FROM pairs p WHERE p.dataset_id = ? AND p.status = ?)");
            w.params.push_back(*f.pairs_dataset_id);
            w.params.push_back(*f.pair_status);
        } else {
            w.add("t.id IN (SELECT p.task_id FROM pairs p WHERE p.dataset_id = ?)");
            w.params.push_back(*f.pairs_dataset_id);
        }
    }
    return w;
}

void bind_params(Statement& st, const std::vector<Param>& params, int first = 1) {
    int i = first;
    for (const auto& p : params) {
        if (std::holds_alternative<int64_t>(p))
            st.bind(i++, std::get<int64_t>(p));
        else
            st.bind(i++, std::get<std::string>(p));
    }
}

std::string order_by(const TaskPageRequest& r, bool fts) {
    const char* dir = r.descending ? " DESC" : " ASC";
    std::string key;
    switch (r.sort) {
        case TaskSort::Id: key = "t.id"; break;
        case TaskSort::Ordinal: return std::string(" ORDER BY t.dataset_id") + dir + ", t.ordinal" + dir;
        case TaskSort::Query: key = "t.query COLLATE NOCASE"; break;
        case TaskSort::Steps: key = "t.n_steps"; break;
        case TaskSort::Verdict: key = "t.verdict"; break;
        case TaskSort::Images: key = "t.n_images"; break;
        case TaskSort::MissingMedia: key = "t.n_missing_media"; break;
        case TaskSort::PairsPending:
            key = "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'pending')";
            break;
        case TaskSort::Relevance:
            if (!fts) return std::string(" ORDER BY t.id") + dir;
            // bm25 rank: smaller is better, so "ascending" = best first.
            return std::string(" ORDER BY f.rank") + dir + ", t.id";
    }
    if (key == "t.id") return " ORDER BY t.id" + std::string(dir);
    return " ORDER BY " + key + dir + ", t.id" + dir;
}

const char* kTaskCols =
    "id, dataset_id, record_key, COALESCE(external_id,''), ordinal, query, prompt_text, answer, ground_truth, "
    "verdict, verifier_text, source, level, category, system_prompt_id, n_steps, n_images, n_missing_media, "
    "tools, extra";

}  // namespace

Result<std::vector<TaskSummary>> TaskRepo::page(const TaskFilter& filter, const TaskPageRequest& request) {
    const bool in_order = request.sort == TaskSort::Id || request.sort == TaskSort::Ordinal;
    Where w = build_where(filter, in_order);
    std::string sql =
        "SELECT t.id, t.dataset_id, COALESCE(t.external_id,''), t.ordinal, t.query, t.verdict, t.n_steps, "
        "t.n_images, t.n_missing_media, t.tools, "
        "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'pending'), "
        "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'approved'), "
        "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'rejected')" +
        w.from + w.sql + order_by(request, w.fts) + " LIMIT ? OFFSET ?";
    MATRIX_TRY(Statement * st, m_db.cached(sql));
    bind_params(*st, w.params);
    st->bind(int(w.params.size()) + 1, request.limit < 0 ? int64_t(-1) : request.limit);
    st->bind(int(w.params.size()) + 2, request.offset < 0 ? int64_t(0) : request.offset);
    std::vector<TaskSummary> out;
    for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.error().within("task page");
        if (!row.value()) break;
        TaskSummary s;
        s.id = st->column_int64(0);
        s.dataset_id = st->column_int64(1);
        s.external_id = st->column_text(2);
        s.ordinal = st->column_int64(3);
        s.query = st->column_text(4);
        s.verdict = st->column_text(5);
        s.n_steps = st->column_int(6);
        s.n_images = st->column_int(7);
        s.n_missing_media = st->column_int(8);
        s.tools = st->column_text(9);
        s.pairs_pending = st->column_int(10);
        s.pairs_approved = st->column_int(11);
        s.pairs_rejected = st->column_int(12);
        out.push_back(std::move(s));
    }
    st->reset();
    return out;
}

Result<int64_t> TaskRepo::count(const TaskFilter& filter) {
    Where w = build_where(filter, false);
    MATRIX_TRY(Statement * st, m_db.cached("SELECT count(*)" + w.from + w.sql));
    bind_params(*st, w.params);
    auto row = st->step();
    if (!row.ok()) return row.error().within("task count");
    int64_t n = row.value() ? st->column_int64(0) : 0;
    st->reset();
    return n;
}

Result<std::optional<Task>> TaskRepo::get(int64_t id) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kTaskCols + " FROM tasks WHERE id=?"));
    st->bind(1, id);
    MATRIX_TRY(bool row, st->step());
    if (!row) {
        st->reset();
        return std::optional<Task>();
    }
    Task t;
    t.id = st->column_int64(0);
    t.dataset_id = st->column_int64(1);
    t.record_key = st->column_text(2);
    t.external_id = st->column_text(3);
    t.ordinal = st->column_int64(4);
    t.query = st->column_text(5);
    t.prompt_text = st->column_optional_text(6);
    t.answer = st->column_optional_text(7);
    t.ground_truth = st->column_optional_text(8);
    t.verdict = st->column_text(9);
    t.verifier_text = st->column_optional_text(10);
    t.source = st->column_optional_text(11);
    t.level = st->column_optional_text(12);
    t.category = st->column_optional_text(13);
    t.system_prompt_id = st->column_optional_int64(14);
    t.n_steps = st->column_int(15);
    t.n_images = st->column_int(16);
    t.n_missing_media = st->column_int(17);
    t.tools = st->column_text(18);
    t.extra = st->column_optional_text(19);
    st->reset();
    return std::optional<Task>(std::move(t));
}

Result<std::optional<int64_t>> TaskRepo::find_by_key(int64_t dataset_id, const std::string& record_key) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT id FROM tasks WHERE dataset_id=? AND record_key=?"));
    st->bind_all(dataset_id, record_key);
    MATRIX_TRY(bool row, st->step());
    std::optional<int64_t> id;
    if (row) id = st->column_int64(0);
    st->reset();
    return id;
}

Result<std::optional<int64_t>> TaskRepo::find_by_external_id(int64_t dataset_id, const std::string& external_id) {
    MATRIX_TRY(Statement * st,
               m_db.cached("SELECT id FROM tasks WHERE dataset_id=? AND external_id=? ORDER BY id LIMIT 1"));
    st->bind_all(dataset_id, external_id);
    MATRIX_TRY(bool row, st->step());
    std::optional<int64_t> id;
    if (row) id = st->column_int64(0);
    st->reset();
    return id;
}

Result<std::optional<std::string>> TaskRepo::system_prompt(int64_t task_id) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT s.text FROM tasks t JOIN system_prompts s ON "
                                           "s.id = t.system_prompt_id WHERE t.id=?"));
    st->bind(1, task_id);
    MATRIX_TRY(bool row, st->step());
    std::optional<std::string> text;
    if (row) text = st->column_text(0);
    st->reset();
    return text;
}

Result<int64_t> TaskRepo::next_ordinal(int64_t dataset_id) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT COALESCE(max(ordinal)+1, 0) FROM tasks WHERE dataset_id=?"));
    st->bind(1, dataset_id);
    MATRIX_TRY(bool row, st->step());
    int64_t n = row ? st->column_int64(0) : 0;
    st->reset();
    return n;
}

Result<int64_t> TaskRepo::insert(const Task& t, bool index_fts) {
    MATRIX_TRY(Statement * st,
               m_db.cached("INSERT INTO tasks(dataset_id, record_key, external_id, ordinal, query, prompt_text, "
                           "answer, ground_truth, verdict, verifier_text, source, level, category, system_prompt_id, "
                           "extra, n_images, n_missing_media, n_steps, tools) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    st->bind_all(t.dataset_id, t.record_key, t.external_id.empty() ? std::optional<std::string>() : t.external_id,
                 t.ordinal, t.query, t.prompt_text, t.answer, t.ground_truth,
                 t.verdict.empty() ? std::string("unknown") : t.verdict, t.verifier_text, t.source, t.level,
                 t.category, t.system_prompt_id, t.extra, int64_t(t.n_images), int64_t(t.n_missing_media),
                 int64_t(t.n_steps), t.tools);
    if (auto s = st->run(); !s.ok()) return s.error().within("task '" + t.record_key + "'");
    int64_t id = m_db.last_insert_rowid();
    if (index_fts) {
        FtsDoc doc;
        doc.query = t.query;
        MATRIX_CHECK(fts_insert(m_db, id, doc));
    }
    return id;
}

Status TaskRepo::set_verdict(int64_t id, const std::string& verdict) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE tasks SET verdict=? WHERE id=?"));
    st->bind_all(verdict, id);
    return st->run();
}

Status TaskRepo::refresh_counters(int64_t id) {
    MATRIX_TRY(int64_t traj, primary_trajectory_id(m_db, id));
    MATRIX_TRY(Statement * st,
               m_db.cached("UPDATE tasks SET "
                           "n_steps = COALESCE((SELECT n_steps FROM trajectories WHERE id=?2), 0), "
                           "tools = COALESCE((SELECT group_concat(name, ' ') FROM (SELECT DISTINCT c.name FROM "
                           "  tool_calls c JOIN steps s ON s.id=c.step_id WHERE s.trajectory_id=?2 ORDER BY c.name)),''), "
                           "n_images = (SELECT count(*) FROM task_media WHERE task_id=?1 AND role='image'), "
                           "n_missing_media = (SELECT count(*) FROM task_media tm JOIN media m ON m.id=tm.media_id "
                           "  WHERE tm.task_id=?1 AND m.resolved_path IS NULL) "
                           "WHERE id=?1"));
    st->bind_all(id, traj);
    return st->run();
}

Result<int64_t> intern_system_prompt(Database& db, const std::string& text) {
    const std::string hash = sha256_hex(text);
    MATRIX_TRY(Statement * find, db.cached("SELECT id FROM system_prompts WHERE sha256=?"));
    find->bind(1, hash);
    MATRIX_TRY(bool row, find->step());
    if (row) {
        int64_t id = find->column_int64(0);
        find->reset();
        return id;
    }
    find->reset();
    MATRIX_TRY(Statement * ins, db.cached("INSERT INTO system_prompts(sha256, text) VALUES(?,?)"));
    ins->bind_all(hash, text);
    MATRIX_CHECK(ins->run());
    return db.last_insert_rowid();
}

Result<std::optional<std::string>> system_prompt_text(Database& db, int64_t id) {
    MATRIX_TRY(Statement * st, db.cached("SELECT text FROM system_prompts WHERE id=?"));
    st->bind(1, id);
    MATRIX_TRY(bool row, st->step());
    std::optional<std::string> text;
    if (row) text = st->column_text(0);
    st->reset();
    return text;
}

}  // namespace matrix::store
