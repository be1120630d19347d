// Full-text index maintenance for tasks (see fts.h).
#include "core/store/fts.h"

#include <cctype>

namespace matrix::store {

void FtsDoc::add_step(std::string_view thought, std::string_view code_text, std::string_view observation) {
    auto append = [](std::string& dst, std::string_view s) {
        if (!dst.empty()) dst += '\n';
        dst.append(s.data(), s.size());
    };
    append(thoughts, thought);
    append(code, code_text);
    append(observations, observation);
}

Result<int64_t> primary_trajectory_id(Database& db, int64_t task_id) {
    MATRIX_TRY(Statement * st,
               db.cached("SELECT id FROM trajectories WHERE task_id=? AND run_id IS NULL ORDER BY id LIMIT 1"));
    st->bind(1, task_id);
    MATRIX_TRY(bool row, st->step());
    int64_t id = row ? st->column_int64(0) : 0;
    st->reset();
    return id;
}

Result<FtsDoc> fts_doc_for_task(Database& db, int64_t task_id) {
    FtsDoc doc;
    {
        MATRIX_TRY(Statement * st, db.cached("SELECT query FROM tasks WHERE id=?"));
        st->bind(1, task_id);
        MATRIX_TRY(bool row, st->step());
        if (!row) {
            st->reset();
            return make_error("no task " + std::to_string(task_id));
        }
        doc.query = st->column_text(0);
        st->reset();
    }
    MATRIX_TRY(int64_t traj, primary_trajectory_id(db, task_id));
    if (traj == 0) return doc;
    MATRIX_TRY(Statement * st,
               db.cached("SELECT thought, code, observation FROM steps WHERE trajectory_id=? ORDER BY idx"));
    st->bind(1, traj);
    for (;;) {
        MATRIX_TRY(bool row, st->step());
        if (!row) break;
        doc.add_step(st->column_view(0), st->column_view(1), st->column_view(2));
    }
    st->reset();
    return doc;
}

Status fts_insert(Database& db, int64_t task_id, const FtsDoc& doc) {
    MATRIX_TRY(Statement * st,
               db.cached("INSERT INTO task_fts(rowid, query, thoughts, code, observations) VALUES(?,?,?,?,?)"));
    st->bind(1, task_id);
    st->bind_static(2, doc.query).bind_static(3, doc.thoughts).bind_static(4, doc.code).bind_static(5, doc.observations);
    return st->run();  // resets the statement while `doc` is alive
}

Status fts_delete(Database& db, int64_t task_id, const FtsDoc& doc) {
    MATRIX_TRY(Statement * st, db.cached("INSERT INTO task_fts(task_fts, rowid, query, thoughts, code, observations) "
                                         "VALUES('delete',?,?,?,?,?)"));
    st->bind_all(task_id, doc.query, doc.thoughts, doc.code, doc.observations);
    return st->run();
}

Status fts_reindex_task(Database& db, int64_t task_id, const FtsDoc* old_doc) {
    if (old_doc) MATRIX_CHECK(fts_delete(db, task_id, *old_doc));
    MATRIX_TRY(FtsDoc doc, fts_doc_for_task(db, task_id));
    return fts_insert(db, task_id, doc);
}

Status fts_remove_task(Database& db, int64_t task_id) {
    MATRIX_TRY(FtsDoc doc, fts_doc_for_task(db, task_id));
    return fts_delete(db, task_id, doc);
}

Status fts_rebuild(Database& db) {
    MATRIX_CHECK(db.exec("INSERT INTO task_fts(task_fts) VALUES('delete-all')"));
    MATRIX_TRY(Statement ids, db.prepare("SELECT id FROM tasks ORDER BY id"));
    for (;;) {
        MATRIX_TRY(bool row, ids.step());
        if (!row) break;
        int64_t id = ids.column_int64(0);
        MATRIX_TRY(FtsDoc doc, fts_doc_for_task(db, id));
        MATRIX_CHECK(fts_insert(db, id, doc));
    }
    return {};
}

std::string fts_query_from_text(std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        // NUL counts as a space: SQLite's FTS5 query syntax cannot carry it.
        const auto space = [](char c) { return c == '\0' || std::isspace(static_cast<unsigned char>(c)); };
        while (i < text.size() && space(text[i])) ++i;
        size_t start = i;
        while (i < text.size() && !space(text[i])) ++i;
        std::string_view word = text.substr(start, i - start);
        if (word.empty()) continue;
        bool prefix = word.size() > 1 && word.back() == '*';
        if (prefix) word.remove_suffix(1);
        // Keep only words that contain a token character; "+" or "--" alone would match nothing.
        bool has_token = false;
        for (unsigned char c : word) has_token |= (std::isalnum(c) || c >= 0x80);
        if (!has_token) continue;
        if (!out.empty()) out += ' ';
        out += '"';
        for (char c : word) {
            if (c == '"') out += '"';
            out += c;
        }
        out += '"';
        if (prefix) out += '*';
    }
    return out;
}

}  // namespace matrix::store
