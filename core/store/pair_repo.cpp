// Preference pair rows, prefixes and the edit history with undo/redo (see pair_repo.h).
#include "core/store/pair_repo.h"

#include <algorithm>

#include "core/conversation/prefx_history.h"
#include "core/util/sha256.h"

namespace matrix::store {

namespace {

const char* kPairCols =
    "id, dataset_id, prefix_id, task_id, step_index, record_key, ordinal, chosen_action, chosen_observation, "
    "rejected_action, rejected_observation, status, rejection_reason, note, origin, extra, created_at, updated_at";

Pair read_pair(const Statement& st) {
    Pair p;
    p.id = st.column_int64(0);
    p.dataset_id = st.column_int64(1);
    p.prefix_id = st.column_int64(2);
    p.task_id = st.column_optional_int64(3);
    p.step_index = st.column_int(4);
    p.record_key = st.column_text(5);
    p.ordinal = st.column_int64(6);
    p.chosen_action = st.column_text(7);
    p.chosen_observation = st.column_optional_text(8);
    p.rejected_action = st.column_text(9);
    p.rejected_observation = st.column_optional_text(10);
    p.status = st.column_text(11);
    p.rejection_reason = st.column_optional_text(12);
    p.note = st.column_optional_text(13);
    p.origin = st.column_text(14);
    p.extra = st.column_optional_text(15);
    p.created_at = st.column_text(16);
    p.updated_at = st.column_text(17);
    return p;
}

bool editable_field(const std::string& f) {
    static const char* kFields[] = {"status",          "rejection_reason",   "note",
                                    "chosen_action",   "chosen_observation", "rejected_action",
                                    "rejected_observation"};
    return std::any_of(std::begin(kFields), std::end(kFields), [&](const char* k) { return f == k; });
}

bool not_null_field(const std::string& f) { return f == "status" || f == "chosen_action" || f == "rejected_action"; }

std::string where_of(const PairFilter& f, std::vector<std::pair<int, std::string>>& text_params,
                     std::vector<std::pair<int, int64_t>>& int_params) {
    std::string w;
    int i = 1;
    auto add = [&](const std::string& c) { w += (w.empty() ? " WHERE " : " AND ") + c; };
    if (f.dataset_id) add("dataset_id=?"), int_params.push_back({i++, *f.dataset_id});
    if (f.task_id) add("task_id=?"), int_params.push_back({i++, *f.task_id});
    if (f.step_index) add("step_index=?"), int_params.push_back({i++, int64_t(*f.step_index)});
    if (f.status) add("status=?"), text_params.push_back({i++, *f.status});
    if (f.origin) add("origin=?"), text_params.push_back({i++, *f.origin});
    return w;
}

// Writes a prefix's steps and task turn and empties its history text (the steps reproduce it exactly).
Status write_prefix_steps(Database& db, int64_t prefix_id, const conversation::PrefxSteps& ps) {
    MATRIX_TRY(Statement * ins, db.cached("INSERT INTO pair_prefix_steps(prefix_id, idx, action, thought, code, "
                                          "observation, observation_raw, is_error, is_final) VALUES(?,?,?,?,?,?,?,?,?)"));
    for (const Step& s : ps.steps) {
        ins->bind_all(prefix_id, int64_t(s.idx), s.action, s.thought, s.code, s.observation, s.observation_raw,
                      s.is_error, s.is_final);
        MATRIX_CHECK(ins->run());
    }
    MATRIX_TRY(Statement * up, db.cached("UPDATE pair_prefixes SET task_turn=?, history='' WHERE id=?"));
    up->bind_all(ps.task_turn, prefix_id);
    return up->run();
}

Result<std::vector<Step>> read_prefix_steps(Database& db, int64_t prefix_id) {
    MATRIX_TRY(Statement * st, db.cached("SELECT idx, action, thought, code, observation, observation_raw, is_error, "
                                         "is_final FROM pair_prefix_steps WHERE prefix_id=? ORDER BY idx"));
    st->bind(1, prefix_id);
    std::vector<Step> steps;
    for (;;) {
        auto row = st->step();
        if (!row.ok()) {
            st->reset();
            return row.error();
        }
        if (!row.value()) break;
        Step s;
        s.idx = st->column_int(0);
        s.action = st->column_optional_text(1);
        s.thought = st->column_text(2);
        s.code = st->column_text(3);
        s.observation = st->column_optional_text(4);
        s.observation_raw = st->column_optional_text(5);
        s.is_error = st->column_int(6) != 0;
        s.is_final = st->column_int(7) != 0;
        steps.push_back(std::move(s));
    }
    st->reset();
    return steps;
}

}  // namespace

Status store_pair_histories_as_steps(Database& db) {
    MATRIX_TRY(Statement st, db.prepare("SELECT id, history FROM pair_prefixes WHERE task_turn IS NULL ORDER BY id"));
    std::vector<std::pair<int64_t, conversation::PrefxSteps>> converted;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        if (auto ps = conversation::prefx_steps_of_history_text(st.column_view(1)))
            converted.emplace_back(st.column_int64(0), std::move(*ps));
    }
    st.reset();
    for (const auto& [id, ps] : converted) MATRIX_CHECK(write_prefix_steps(db, id, ps));
    return {};
}

bool PairRepo::has_prefix_steps() {
    if (!m_has_prefix_steps) {
        auto n = m_db.query_int64("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='pair_prefix_steps'");
        m_has_prefix_steps = n.ok() && n.value() > 0;
    }
    return *m_has_prefix_steps;
}

const std::vector<std::string>& rejection_reasons() {
    static const std::vector<std::string> r = {"wrong tool",      "wrong argument", "hallucinated content",
                                               "ignores image",   "premature answer", "format error",
                                               "other"};
    return r;
}

Result<int64_t> PairRepo::intern_prefix(const PairPrefix& p) {
    std::string key = (p.system_prompt_id ? std::to_string(*p.system_prompt_id) : std::string("-")) + "\x1f" +
                      p.images + "\x1f" + p.history;
    std::string hash = sha256_hex(key);
    MATRIX_TRY(Statement * find, m_db.cached("SELECT id FROM pair_prefixes WHERE sha256=?"));
    find->bind(1, hash);
    MATRIX_TRY(bool row, find->step());
    if (row) {
        int64_t id = find->column_int64(0);
        find->reset();
        return id;
    }
    find->reset();
    // Another connection may intern the same prefix between the lookup and the insert: then take its row.
    MATRIX_TRY(Statement * ins, m_db.cached("INSERT INTO pair_prefixes(sha256, system_prompt_id, images, history) "
                                            "VALUES(?,?,?,?) ON CONFLICT(sha256) DO NOTHING"));
    ins->bind_all(hash, p.system_prompt_id, p.images, p.history);
    MATRIX_CHECK(ins->run());
    if (m_db.changes() == 0) {
        find->bind(1, hash);
        MATRIX_TRY(bool again, find->step());
        const int64_t other = again ? find->column_int64(0) : 0;
        find->reset();
        if (!again) return make_error("pair prefix " + hash + " is neither inserted nor found");
        return other;
    }
    const int64_t id = m_db.last_insert_rowid();
    if (has_prefix_steps()) {
        if (auto ps = conversation::prefx_steps_of_history_text(p.history)) MATRIX_CHECK(write_prefix_steps(m_db, id, *ps));
    }
    return id;
}

Result<std::optional<PairPrefix>> PairRepo::prefix(int64_t id) {
    const bool with_steps = has_prefix_steps();
    MATRIX_TRY(Statement * st,
               m_db.cached(with_steps ? "SELECT id, sha256, system_prompt_id, images, history, task_turn FROM "
                                        "pair_prefixes WHERE id=?"
                                      : "SELECT id, sha256, system_prompt_id, images, history, NULL FROM "
                                        "pair_prefixes WHERE id=?"));
    st->bind(1, id);
    MATRIX_TRY(bool row, st->step());
    std::optional<PairPrefix> p;
    if (row) {
        PairPrefix x;
        x.id = st->column_int64(0);
        x.sha256 = st->column_text(1);
        x.system_prompt_id = st->column_optional_int64(2);
        x.images = st->column_text(3);
        x.history = st->column_text(4);
        x.task_turn = st->column_optional_text(5);
        p = std::move(x);
    }
    st->reset();
    if (p && p->task_turn) {
        MATRIX_TRY(auto steps, read_prefix_steps(m_db, p->id));
        p->steps = std::move(steps);
        p->history = conversation::prefx_history_text(*p->task_turn, p->steps);
    }
    return p;
}

Result<int64_t> PairRepo::insert(const Pair& p) {
    MATRIX_TRY(Statement * st,
               m_db.cached("INSERT INTO pairs(dataset_id, prefix_id, task_id, step_index, record_key, ordinal, "
                           "chosen_action, chosen_observation, rejected_action, rejected_observation, status, "
                           "rejection_reason, note, origin, extra) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    st->bind_all(p.dataset_id, p.prefix_id, p.task_id, int64_t(p.step_index), p.record_key, p.ordinal,
                 p.chosen_action, p.chosen_observation, p.rejected_action, p.rejected_observation, p.status,
                 p.rejection_reason, p.note, p.origin, p.extra);
    if (auto s = st->run(); !s.ok()) return s.error().within("pair '" + p.record_key + "'");
    return m_db.last_insert_rowid();
}

Result<std::optional<Pair>> PairRepo::get(int64_t id) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kPairCols + " FROM pairs WHERE id=?"));
    st->bind(1, id);
    MATRIX_TRY(bool row, st->step());
    std::optional<Pair> p;
    if (row) p = read_pair(*st);
    st->reset();
    return p;
}

Result<std::optional<int64_t>> PairRepo::find_by_key(int64_t dataset_id, const std::string& record_key) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT id FROM pairs WHERE dataset_id=? AND record_key=?"));
    st->bind_all(dataset_id, record_key);
    MATRIX_TRY(bool row, st->step());
    std::optional<int64_t> id;
    if (row) id = st->column_int64(0);
    st->reset();
    return id;
}

Result<std::vector<Pair>> PairRepo::list(const PairFilter& filter, int64_t offset, int64_t limit) {
    std::vector<std::pair<int, std::string>> tp;
    std::vector<std::pair<int, int64_t>> ip;
    std::string w = where_of(filter, tp, ip);
    const int n = int(tp.size() + ip.size());
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kPairCols + " FROM pairs" + w +
                                          " ORDER BY dataset_id, ordinal, id LIMIT ? OFFSET ?"));
    for (auto& [i, v] : tp) st.bind(i, v);
    for (auto& [i, v] : ip) st.bind(i, v);
    st.bind(n + 1, limit);
    st.bind(n + 2, offset);
    std::vector<Pair> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_pair(st));
    }
    return out;
}

Result<int64_t> PairRepo::count(const PairFilter& filter) {
    std::vector<std::pair<int, std::string>> tp;
    std::vector<std::pair<int, int64_t>> ip;
    std::string w = where_of(filter, tp, ip);
    MATRIX_TRY(Statement st, m_db.prepare("SELECT count(*) FROM pairs" + w));
    for (auto& [i, v] : tp) st.bind(i, v);
    for (auto& [i, v] : ip) st.bind(i, v);
    MATRIX_TRY(bool row, st.step());
    return row ? st.column_int64(0) : int64_t(0);
}

Result<std::vector<PairRepo::QueueRow>> PairRepo::queue(const std::optional<int64_t>& dataset_id) {
    std::string sql = "SELECT id, status, COALESCE(task_id, 0), step_index FROM pairs";
    if (dataset_id) sql += " WHERE dataset_id = ?1";
    sql += " ORDER BY dataset_id, ordinal";
    MATRIX_TRY(Statement st, m_db.prepare(sql));
    if (dataset_id) st.bind(1, *dataset_id);
    std::vector<QueueRow> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back({st.column_int64(0), st.column_text(1), st.column_int64(2), st.column_int(3)});
    }
    return out;
}

Result<std::vector<std::pair<int, int64_t>>> PairRepo::count_by_step(int64_t task_id) {
    MATRIX_TRY(Statement st,
               m_db.prepare("SELECT step_index, count(*) FROM pairs WHERE task_id = ?1 GROUP BY step_index ORDER BY step_index"));
    st.bind(1, task_id);
    std::vector<std::pair<int, int64_t>> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.emplace_back(st.column_int(0), st.column_int64(1));
    }
    return out;
}

Status PairRepo::apply_group(int64_t id,
                             const std::vector<std::pair<std::string, std::optional<std::string>>>& fields) {
    // Read current values; keep only real changes.
    std::vector<std::pair<std::string, std::optional<std::string>>> olds;
    for (const auto& [field, value] : fields) {
        if (!editable_field(field)) return make_error("field '" + field + "' cannot be edited", "pair " + std::to_string(id));
        if (!value && not_null_field(field)) return make_error("field '" + field + "' cannot be empty", "pair " + std::to_string(id));
        if (field == "status" && *value != "pending" && *value != "approved" && *value != "rejected")
            return make_error("unknown pair status '" + *value + "'", "pair " + std::to_string(id));
        MATRIX_TRY(Statement st, m_db.prepare("SELECT " + field + " FROM pairs WHERE id=?"));
        st.bind(1, id);
        MATRIX_TRY(bool row, st.step());
        if (!row) return make_error("no pair " + std::to_string(id));
        olds.push_back({field, st.column_optional_text(0)});
    }
    Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(int64_t group, m_db.query_int64("SELECT COALESCE(max(group_id), 0) + 1 FROM pair_edits"));
    const std::string now = now_iso8601();
    bool changed = false;
    for (size_t i = 0; i < fields.size(); ++i) {
        const auto& [field, value] = fields[i];
        if (olds[i].second == value) continue;
        changed = true;
        MATRIX_TRY(Statement up, m_db.prepare("UPDATE pairs SET " + field + "=?, updated_at=? WHERE id=?"));
        up.bind_all(value, now, id);
        MATRIX_CHECK(up.run());
        MATRIX_TRY(Statement * ed, m_db.cached("INSERT INTO pair_edits(pair_id, group_id, field, old_value, "
                                               "new_value, at) VALUES(?,?,?,?,?,?)"));
        ed->bind_all(id, group, field, olds[i].second, value, now);
        MATRIX_CHECK(ed->run());
    }
    if (!changed) return {};  // the transaction rolls back: nothing was written
    return tx.commit();
}

Status PairRepo::update(int64_t id, const std::vector<std::pair<std::string, std::optional<std::string>>>& fields) {
    return apply_group(id, fields);
}

Status PairRepo::set_status(int64_t id, const std::string& status, const std::optional<std::string>& reason) {
    if (reason) return apply_group(id, {{"status", status}, {"rejection_reason", reason}});
    return apply_group(id, {{"status", status}});
}

Status PairRepo::set_rejection_reason(int64_t id, const std::optional<std::string>& reason) {
    return apply_group(id, {{"rejection_reason", reason}});
}

Status PairRepo::set_note(int64_t id, const std::optional<std::string>& note) { return apply_group(id, {{"note", note}}); }

Status PairRepo::swap(int64_t id) {
    MATRIX_TRY(auto p, get(id));
    if (!p) return make_error("no pair " + std::to_string(id));
    return apply_group(id, {{"chosen_action", p->rejected_action},
                            {"chosen_observation", p->rejected_observation},
                            {"rejected_action", p->chosen_action},
                            {"rejected_observation", p->chosen_observation}});
}

Status PairRepo::edit_chosen(int64_t id, const std::string& action,
                             const std::optional<std::optional<std::string>>& observation) {
    if (observation) return apply_group(id, {{"chosen_action", action}, {"chosen_observation", *observation}});
    return apply_group(id, {{"chosen_action", action}});
}

Result<std::vector<PairEdit>> PairRepo::history(int64_t pair_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT id, pair_id, group_id, field, old_value, new_value, at, undone FROM "
                                          "pair_edits WHERE pair_id=? ORDER BY id"));
    st.bind(1, pair_id);
    std::vector<PairEdit> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        PairEdit e;
        e.id = st.column_int64(0);
        e.pair_id = st.column_int64(1);
        e.group_id = st.column_int64(2);
        e.field = st.column_text(3);
        e.old_value = st.column_optional_text(4);
        e.new_value = st.column_optional_text(5);
        e.at = st.column_text(6);
        e.undone = st.column_int(7) != 0;
        out.push_back(std::move(e));
    }
    return out;
}

namespace {
// Restores one edit group to old (undo) or new (redo) values and flips its undone flag, in one transaction.
Result<std::optional<int64_t>> replay_group(Database& db, int64_t group, bool undo) {
    Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(Statement st, db.prepare(std::string("SELECT id, pair_id, field, old_value, new_value FROM pair_edits "
                                                    "WHERE group_id=? ORDER BY id ") + (undo ? "DESC" : "ASC")));
    st.bind(1, group);
    int64_t pair_id = 0;
    const std::string now = now_iso8601();
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        pair_id = st.column_int64(1);
        std::string field = st.column_text(2);
        if (!editable_field(field)) return make_error("edit history names unknown field '" + field + "'");
        auto value = st.column_optional_text(undo ? 3 : 4);
        MATRIX_TRY(Statement up, db.prepare("UPDATE pairs SET " + field + "=?, updated_at=? WHERE id=?"));
        up.bind_all(value, now, pair_id);
        MATRIX_CHECK(up.run());
    }
    MATRIX_TRY(Statement mark, db.prepare("UPDATE pair_edits SET undone=? WHERE group_id=?"));
    mark.bind_all(undo ? 1 : 0, group);
    MATRIX_CHECK(mark.run());
    MATRIX_CHECK(tx.commit());
    return std::optional<int64_t>(pair_id);
}
}  // namespace

Result<std::optional<int64_t>> PairRepo::undo_last(const std::optional<int64_t>& dataset_id) {
    std::string sql = "SELECT max(e.group_id) FROM pair_edits e";
    if (dataset_id) sql += " JOIN pairs p ON p.id = e.pair_id WHERE p.dataset_id=? AND e.undone=0";
    else sql += " WHERE e.undone=0";
    MATRIX_TRY(Statement st, m_db.prepare(sql));
    if (dataset_id) st.bind(1, *dataset_id);
    MATRIX_TRY(bool row, st.step());
    if (!row || st.column_is_null(0)) return std::optional<int64_t>();
    return replay_group(m_db, st.column_int64(0), true);
}

Result<std::optional<int64_t>> PairRepo::redo_last(const std::optional<int64_t>& dataset_id) {
    // The last undone group: the lowest undone group above every group still applied.
    std::string scope = dataset_id ? " JOIN pairs p ON p.id = e.pair_id WHERE p.dataset_id=?1 AND " : " WHERE ";
    std::string sql = "SELECT min(e.group_id) FROM pair_edits e" + scope + "e.undone=1 AND e.group_id > "
                      "COALESCE((SELECT max(e.group_id) FROM pair_edits e" + scope + "e.undone=0), 0)";
    MATRIX_TRY(Statement st, m_db.prepare(sql));
    if (dataset_id) st.bind(1, *dataset_id);
    MATRIX_TRY(bool row, st.step());
    if (!row || st.column_is_null(0)) return std::optional<int64_t>();
    return replay_group(m_db, st.column_int64(0), false);
}

}  // namespace matrix::store
