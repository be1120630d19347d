// Task rows: paged browser queries and inserts (see task_repo.h). The browser's filters map to indexed columns
// (tasks.n_steps, verdict, counters) or to EXISTS over indexed child tables (tool_calls(task_id, name),
// pairs(task_id)), so a page of 100 needs only as many row checks as it takes to find 100 matches.
#include "core/store/task_repo.h"

#include <sqlite3.h>

#include <algorithm>
#include <unordered_map>
#include <variant>

#include <nlohmann/json.hpp>

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

// How the full-text condition joins the tasks: Join drives from the FTS table (its rowid order = task id
// order, and f.rank for relevance); In is a condition on t.id (the matching ids are collected once), for scans
// in another order.
enum class FtsMode { Join, In };

Where build_where(const TaskFilter& f, bool scan_in_order = true, FtsMode fts_mode = FtsMode::Join) {
    Where w;
    std::string match = fts_query_from_text(f.text);
    if (!f.text.empty()) {
        w.fts = true;
        // A text with no searchable word matches nothing (rather than everything).
        if (fts_mode == FtsMode::Join) {
            w.from = " FROM task_fts f JOIN tasks t ON t.id = f.rowid";
            w.add("f.task_fts MATCH ?");
        } else {
            w.add("t.id IN (SELECT rowid FROM task_fts WHERE task_fts MATCH ?)");
        }
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
        w.add(std::string(plus) + "t.verdict = ?");
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
    if (f.has_missing_media)
        w.add(std::string(plus) + (*f.has_missing_media ? "t.n_missing_media > 0" : "t.n_missing_media = 0"));
    if (f.has_images) w.add(std::string(plus) + (*f.has_images ? "t.n_images > 0" : "t.n_images = 0"));
    if (f.pair_status && !f.pairs_dataset_id) {
        w.add("EXISTS(SELECT 1 FROM pairs p WHERE p.task_id = t.id AND p.status = ?)");
        w.params.push_back(*f.pair_status);
    }
    if (f.task_ids) {
        // One JSON array parameter, whatever the number of ids (no SQL text per id list, no variable limit).
        w.add("t.id IN (SELECT value FROM json_each(?))");
        w.params.push_back(nlohmann::json(*f.task_ids).dump());
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

bool has_non_text_filter(const TaskFilter& f) {
    return f.dataset_id || !f.tool.empty() || f.verdict || f.min_steps || f.max_steps || f.has_missing_media ||
           f.has_images || f.pair_status || f.pairs_dataset_id || f.task_ids;
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

// The sort column of a sorted (non id / ordinal) page and the index (migration 3) that holds tasks in that
// order; the index entries end with the rowid, so (key, id) order comes straight from it.
struct SortKey {
    std::string expr;
    const char* index = nullptr;  // nullptr: no index gives this order
    std::string major;            // a column sorted before expr ("" = none)
};

SortKey sort_key(TaskSort sort) {
    switch (sort) {
        case TaskSort::Query: return {"t.query COLLATE NOCASE", "tasks_sort_query"};
        case TaskSort::Steps: return {"t.n_steps", "tasks_sort_steps"};
        case TaskSort::Verdict: return {"t.verdict", "tasks_sort_verdict"};
        case TaskSort::Images: return {"t.n_images", "tasks_sort_images"};
        case TaskSort::MissingMedia: return {"t.n_missing_media", "tasks_sort_missing"};
        case TaskSort::PairsPending:
            return {"(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'pending')", nullptr};
        case TaskSort::Ordinal: return {"t.ordinal", "tasks_dataset_ordinal", "t.dataset_id"};  // with text only
        case TaskSort::Id:
        case TaskSort::Relevance: break;
    }
    return {"t.id", nullptr};
}

std::string order_by(const TaskPageRequest& r, bool fts) {
    const char* dir = r.descending ? " DESC" : " ASC";
    switch (r.sort) {
        case TaskSort::Id: return std::string(" ORDER BY t.id") + dir;
        case TaskSort::Ordinal: return std::string(" ORDER BY t.dataset_id") + dir + ", t.ordinal" + dir;
        case TaskSort::Relevance:
            if (!fts) return std::string(" ORDER BY t.id") + dir;
            // bm25 rank: smaller is better, so "ascending" = best first.
            return std::string(" ORDER BY f.rank") + dir + ", t.id";
        default: break;
    }
    return " ORDER BY " + sort_key(r.sort).expr + dir + ", t.id" + dir;
}

// Steps `st` collecting the first column into `ids`. With a budget (VM instructions / 1000), a query that
// runs past it is interrupted and false is returned (the caller then uses a plan whose cost does not depend
// on where the matches lie in the sort order).
struct Budget {
    int64_t left = 0;
};
int budget_tick(void* p) { return --static_cast<Budget*>(p)->left < 0 ? 1 : 0; }

Result<bool> collect_ids(Database& db, Statement& st, int64_t budget_kilo_ops, std::vector<int64_t>& ids) {
    Budget budget{budget_kilo_ops};
    if (budget_kilo_ops > 0) sqlite3_progress_handler(db.handle(), 1000, &budget_tick, &budget);
    ids.clear();
    std::optional<Error> error;
    bool interrupted = false;
    for (;;) {
        auto row = st.step();
        if (!row.ok()) {
            if (budget_kilo_ops > 0 && sqlite3_errcode(db.handle()) == SQLITE_INTERRUPT)
                interrupted = true;
            else
                error = row.error();
            break;
        }
        if (!row.value()) break;
        ids.push_back(st.column_int64(0));
    }
    if (budget_kilo_ops > 0) sqlite3_progress_handler(db.handle(), 0, nullptr, nullptr);
    st.reset();
    if (error) return *error;
    return !interrupted;
}

const char* kTaskCols =
    "id, dataset_id, record_key, COALESCE(external_id,''), ordinal, query, "
    "COALESCE(prompt_text, CASE WHEN prompt_is_query THEN query END), answer, ground_truth, "
    "verdict, verifier_text, source, level, category, system_prompt_id, n_steps, n_images, n_missing_media, "
    "tools, extra";
// The same before migration 13 (no prompt_is_query): a database opened without migrating (Database::open, as
// tests of older schemas do) is still read and written.
const char* kTaskColsBefore13 =
    "id, dataset_id, record_key, COALESCE(external_id,''), ordinal, query, prompt_text, answer, ground_truth, "
    "verdict, verifier_text, source, level, category, system_prompt_id, n_steps, n_images, n_missing_media, "
    "tools, extra";

// A filter condition on a column of a sort index (migration 3) that the collect-and-sort plan can drive from.
struct IndexedCondition {
    const char* index;
    std::string condition;  // on tasks t, as build_where(filter, false) writes it
    std::vector<Param> params;
};

std::vector<IndexedCondition> indexed_conditions(const TaskFilter& f) {
    std::vector<IndexedCondition> out;
    if (f.verdict) out.push_back({"tasks_sort_verdict", "t.verdict = ?", {*f.verdict}});
    if (f.has_missing_media && *f.has_missing_media) out.push_back({"tasks_sort_missing", "t.n_missing_media > 0", {}});
    if (f.has_images && !*f.has_images) out.push_back({"tasks_sort_images", "t.n_images = 0", {}});
    if (f.min_steps || f.max_steps) {
        IndexedCondition c{"tasks_sort_steps", "", {}};
        if (f.min_steps) {
            c.condition = "t.n_steps >= ?";
            c.params.push_back(int64_t(*f.min_steps));
        }
        if (f.max_steps) {
            c.condition += std::string(c.condition.empty() ? "" : " AND ") + "t.n_steps <= ?";
            c.params.push_back(int64_t(*f.max_steps));
        }
        out.push_back(c);
    }
    return out;
}

// Below this many matches of one indexed condition, collecting them through its index and sorting beats any
// ordered scan (which may visit most tasks and find few or none: 50-60 ms at 177K for "verdict no").
constexpr int64_t kFewMatches = 2000;

}  // namespace

// A page is found in two steps: the ids of the page in order (the only part whose cost depends on the filter
// and sort), then the rows of those ids. Sorted pages first try an ordered scan of the sort column's index
// that stops after one page, with a work budget; when the matches are too sparse in that order (the budget
// runs out) they collect every match and sort it. Both give the same rows in the same order.
Result<std::vector<TaskSummary>> TaskRepo::page(const TaskFilter& filter, const TaskPageRequest& request) {
    const int64_t limit = request.limit < 0 ? int64_t(-1) : request.limit;
    const int64_t offset = request.offset < 0 ? int64_t(0) : request.offset;
    const bool fts = !filter.text.empty();
    std::vector<int64_t> ids;
    // Runs an id query; false when it ran out of its budget (> 0).
    auto run_ids = [&](const std::string& sql, const std::vector<Param>& params, int64_t budget) -> Result<bool> {
        MATRIX_TRY(Statement * st, m_db.cached(sql + " LIMIT ? OFFSET ?"));
        bind_params(*st, params);
        st->bind(int(params.size()) + 1, limit);
        st->bind(int(params.size()) + 2, offset);
        auto r = collect_ids(m_db, *st, budget, ids);
        if (!r.ok()) return r.error().within("task page");
        return r;
    };

    // Id / ordinal order scans tasks in that order and stops after a page, except ordinal order with a text
    // filter: the full-text join would drive from every match, so it goes the sorted way (ordered scan of
    // tasks_dataset_ordinal, matches collected once).
    const bool in_order = request.sort == TaskSort::Id || (request.sort == TaskSort::Ordinal && !fts);
    if (in_order || request.sort == TaskSort::Relevance) {
        if (request.sort == TaskSort::Relevance && fts && !has_non_text_filter(filter)) {
            // Relevance over the index alone: no join with tasks for every match.
            const char* dir = request.descending ? " DESC" : " ASC";
            const std::string match = fts_query_from_text(filter.text);
            MATRIX_CHECK(run_ids(std::string("SELECT rowid FROM task_fts WHERE task_fts MATCH ? ORDER BY rank") +
                                     dir + ", rowid",
                                 {match.empty() ? std::string("\"\"") : match}, 0));
        } else {
            Where w = build_where(filter, true);
            MATRIX_CHECK(run_ids("SELECT t.id" + w.from + w.sql + order_by(request, w.fts), w.params, 0));
        }
    } else {
        const SortKey key = sort_key(request.sort);
        bool done = false;
        // The most selective indexed condition, when it matches few tasks (probes stop after kFewMatches).
        const char* driving_index = nullptr;
        if (request.scan_budget < 0) {
            int64_t fewest = kFewMatches;
            for (const auto& c : indexed_conditions(filter)) {
                MATRIX_TRY(Statement * probe, m_db.cached("SELECT count(*) FROM (SELECT 1 FROM tasks t INDEXED BY " +
                                                           std::string(c.index) + " WHERE " + c.condition +
                                                           " LIMIT " + std::to_string(kFewMatches) + ")"));
                bind_params(*probe, c.params);
                MATRIX_TRY(bool row, probe->step());
                const int64_t n = row ? probe->column_int64(0) : 0;
                probe->reset();
                if (n < fewest) {
                    fewest = n;
                    driving_index = c.index;
                }
            }
        }
        if (key.index && request.scan_budget != 0 && !driving_index) {
            // Ordered scan: some 50-200 VM instructions per task visited; the budget allows a few ms of
            // scanning plus the rows skipped by the offset.
            const int64_t budget = request.scan_budget > 0 ? request.scan_budget
                                                           : 300 + (offset + std::max<int64_t>(limit, 0)) / 20;
            Where w = build_where(filter, true, FtsMode::In);
            MATRIX_TRY(done, run_ids("SELECT t.id FROM tasks t INDEXED BY " + std::string(key.index) + w.sql +
                                         order_by(request, false),
                                     w.params, budget));
        }
        if (!done) {
            // Collect the matches through the filters' indexes, then sort them. Materialised, so the planner
            // cannot pick the sort column's index for the order and scan every task (the plan just abandoned).
            Where w = build_where(filter, false, FtsMode::In);
            if (driving_index) w.from += " INDEXED BY " + std::string(driving_index);
            const char* dir = request.descending ? " DESC" : " ASC";
            const std::string major = key.major.empty() ? std::string("0") : key.major;
            MATRIX_CHECK(run_ids("WITH m AS MATERIALIZED (SELECT t.id AS id, " + major + " AS k0, " + key.expr +
                                     " AS k" + w.from + w.sql + ") SELECT id FROM m ORDER BY k0" + dir + ", k" + dir +
                                     ", id" + dir,
                                 w.params, 0));
        }
    }
    return summaries(ids);
}

Result<std::vector<TaskSummary>> TaskRepo::summaries(const std::vector<int64_t>& ids) {
    std::vector<TaskSummary> out;
    if (ids.empty()) return out;
    std::string list = "[";
    for (size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
    list += "]";
    MATRIX_TRY(Statement * st,
               m_db.cached("SELECT t.id, t.dataset_id, COALESCE(t.external_id,''), t.ordinal, t.query, t.verdict, "
                           "t.n_steps, t.n_images, t.n_missing_media, t.tools, "
                           "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'pending'), "
                           "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'approved'), "
                           "(SELECT count(*) FROM pairs p WHERE p.task_id = t.id AND p.status = 'rejected') "
                           "FROM tasks t WHERE t.id IN (SELECT value FROM json_each(?))"));
    st->bind(1, list);
    std::unordered_map<int64_t, size_t> at;
    for (size_t i = 0; i < ids.size(); ++i) at.emplace(ids[i], i);
    out.resize(ids.size());
    std::vector<bool> filled(ids.size(), false);
    for (;;) {
        auto row = st->step();
        if (!row.ok()) return row.error().within("task page rows");
        if (!row.value()) break;
        auto it = at.find(st->column_int64(0));
        if (it == at.end()) continue;
        TaskSummary& s = out[it->second];
        filled[it->second] = true;
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
    }
    st->reset();
    // Ids listed twice (cannot happen from one query) or gone: keep only filled rows, in order.
    size_t k = 0;
    for (size_t i = 0; i < out.size(); ++i) {
        if (!filled[i]) continue;
        if (k != i) out[k] = std::move(out[i]);
        ++k;
    }
    out.resize(k);
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
    auto current = m_db.cached(std::string("SELECT ") + kTaskCols + " FROM tasks WHERE id=?");
    if (!current.ok()) current = m_db.cached(std::string("SELECT ") + kTaskColsBefore13 + " FROM tasks WHERE id=?");
    MATRIX_TRY(Statement * st, std::move(current));
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

Result<std::vector<int64_t>> TaskRepo::pair_dataset_twins(int64_t task_id, const std::string& query, int limit) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id FROM tasks WHERE query = ?1 AND id <> ?2 AND dataset_id IN "
                                          "(SELECT id FROM datasets WHERE kind IN ('prefx', 'beam')) ORDER BY id LIMIT ?3"));
    st.bind_all(query, task_id, int64_t(limit));
    std::vector<int64_t> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_int64(0));
    }
    return out;
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
    const std::string columns = "INSERT INTO tasks(dataset_id, record_key, external_id, ordinal, query, prompt_text, "
                                "answer, ground_truth, verdict, verifier_text, source, level, category, "
                                "system_prompt_id, extra, n_images, n_missing_media, n_steps, tools";
    auto current = m_db.cached(columns + ", prompt_is_query) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const bool has_prompt_is_query = current.ok();  // false before migration 13 (see kTaskColsBefore13)
    if (!has_prompt_is_query) current = m_db.cached(columns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    MATRIX_TRY(Statement * st, std::move(current));
    // The long texts (query, prompt, extra: a benchmark item's JSON) are bound without SQLite's copy: `t`
    // outlives run(), and a record with a 12 MB field paid for each copy. A prompt equal to the query is not
    // stored again (query_refs.h): get() gives the query back for it.
    st->bind_all(t.dataset_id, t.record_key, t.external_id.empty() ? std::optional<std::string>() : t.external_id,
                 t.ordinal);
    const bool prompt_is_query = has_prompt_is_query && t.prompt_text && *t.prompt_text == t.query;
    st->bind_static(5, t.query);
    if (prompt_is_query) st->bind_null(6);
    else st->bind_static(6, t.prompt_text);
    if (has_prompt_is_query) st->bind(20, int64_t(prompt_is_query));
    st->bind(7, t.answer).bind(8, t.ground_truth).bind(9, t.verdict.empty() ? std::string("unknown") : t.verdict);
    st->bind(10, t.verifier_text).bind(11, t.source).bind(12, t.level).bind(13, t.category).bind(14, t.system_prompt_id);
    st->bind_static(15, t.extra);
    st->bind(16, int64_t(t.n_images)).bind(17, int64_t(t.n_missing_media)).bind(18, int64_t(t.n_steps)).bind(19, t.tools);
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
    auto found = [&]() -> Result<std::optional<int64_t>> {
        find->bind(1, hash);
        MATRIX_TRY(bool row, find->step());
        std::optional<int64_t> id;
        if (row) id = find->column_int64(0);
        find->reset();
        return id;
    };
    MATRIX_TRY(auto known, found());
    if (known) return *known;
    // Another connection (a sampling worker, another job) may intern the same text between the lookup and the insert.
    MATRIX_TRY(Statement * ins,
               db.cached("INSERT INTO system_prompts(sha256, text) VALUES(?,?) ON CONFLICT(sha256) DO NOTHING"));
    ins->bind_all(hash, text);
    MATRIX_CHECK(ins->run());
    if (db.changes() == 1) return db.last_insert_rowid();
    MATRIX_TRY(known, found());
    if (!known) return make_error("system prompt " + hash + " is neither inserted nor found");
    return *known;
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
