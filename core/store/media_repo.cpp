// Media rows and task links (see media_repo.h).
#include "core/store/media_repo.h"

namespace matrix::store {

namespace {
const char* kCols = "id, path, resolved_path, sha256, width, height, size_bytes, error";
Media read_media(const Statement& st, int c = 0) {
    Media m;
    m.id = st.column_int64(c + 0);
    m.path = st.column_text(c + 1);
    m.resolved_path = st.column_optional_text(c + 2);
    m.sha256 = st.column_optional_text(c + 3);
    if (!st.column_is_null(c + 4)) m.width = st.column_int(c + 4);
    if (!st.column_is_null(c + 5)) m.height = st.column_int(c + 5);
    m.size_bytes = st.column_optional_int64(c + 6);
    m.error = st.column_optional_text(c + 7);
    return m;
}
std::optional<int64_t> opt64(const std::optional<int>& v) {
    return v ? std::optional<int64_t>(*v) : std::nullopt;
}
}  // namespace

Result<int64_t> MediaRepo::upsert(const Media& m, bool update) {
    MATRIX_TRY(Statement * find, m_db.cached("SELECT id FROM media WHERE path=?"));
    find->bind(1, m.path);
    MATRIX_TRY(bool row, find->step());
    if (row) {
        int64_t id = find->column_int64(0);
        find->reset();
        if (update) {
            MATRIX_TRY(Statement * up, m_db.cached("UPDATE media SET resolved_path=?, sha256=?, width=?, height=?, "
                                                   "size_bytes=?, error=?, checked_at=? WHERE id=?"));
            up->bind_all(m.resolved_path, m.sha256, opt64(m.width), opt64(m.height), m.size_bytes, m.error,
                         now_iso8601(), id);
            MATRIX_CHECK(up->run());
        }
        return id;
    }
    find->reset();
    return insert(m);
}

Result<int64_t> MediaRepo::insert(const Media& m) {
    MATRIX_TRY(Statement * ins, m_db.cached("INSERT INTO media(path, resolved_path, sha256, width, height, size_bytes, "
                                            "error, checked_at) VALUES(?,?,?,?,?,?,?,?)"));
    ins->bind_all(m.path, m.resolved_path, m.sha256, opt64(m.width), opt64(m.height), m.size_bytes, m.error,
                  now_iso8601());
    MATRIX_CHECK(ins->run());
    return m_db.last_insert_rowid();
}

Result<std::optional<Media>> MediaRepo::find(const std::string& path) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kCols + " FROM media WHERE path=?"));
    st->bind(1, path);
    MATRIX_TRY(bool row, st->step());
    std::optional<Media> m;
    if (row) m = read_media(*st);
    st->reset();
    return m;
}

Result<std::optional<Media>> MediaRepo::get(int64_t id) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kCols + " FROM media WHERE id=?"));
    st->bind(1, id);
    MATRIX_TRY(bool row, st->step());
    std::optional<Media> m;
    if (row) m = read_media(*st);
    st->reset();
    return m;
}

Status MediaRepo::link(int64_t task_id, const std::string& role, int position, int64_t media_id,
                       const std::optional<std::string>& label, const std::optional<int>& step_index) {
    // A plain INSERT: INSERT OR REPLACE needs a statement savepoint, and every savepoint makes the FTS5 table
    // written earlier in the same transaction flush its pending terms (one tiny segment per record on import).
    MATRIX_TRY(Statement * st, m_db.cached("INSERT INTO task_media(task_id, role, position, media_id, "
                                           "label, step_index) VALUES(?,?,?,?,?,?)"));
    st->bind_all(task_id, role, int64_t(position), media_id, label, opt64(step_index));
    return st->run();
}

Status MediaRepo::unlink(int64_t task_id, const std::string& role, int position) {
    MATRIX_TRY(Statement * st, m_db.cached("DELETE FROM task_media WHERE task_id=? AND role=? AND position=?"));
    st->bind_all(task_id, role, int64_t(position));
    return st->run();
}

Result<std::vector<TaskMedia>> MediaRepo::for_task(int64_t task_id) {
    MATRIX_TRY(Statement * st,
               m_db.cached("SELECT m.id, m.path, m.resolved_path, m.sha256, m.width, m.height, m.size_bytes, m.error, "
                           "tm.role, tm.position, tm.label, tm.step_index FROM task_media tm JOIN media m ON "
                           "m.id = tm.media_id WHERE tm.task_id=? ORDER BY CASE tm.role WHEN 'image' THEN 0 WHEN "
                           "'attachment' THEN 1 ELSE 2 END, tm.position"));
    st->bind(1, task_id);
    std::vector<TaskMedia> out;
    for (;;) {
        MATRIX_TRY(bool row, st->step());
        if (!row) break;
        TaskMedia tm;
        tm.media = read_media(*st);
        tm.role = st->column_text(8);
        tm.position = st->column_int(9);
        tm.label = st->column_optional_text(10);
        if (!st->column_is_null(11)) tm.step_index = st->column_int(11);
        out.push_back(std::move(tm));
    }
    st->reset();
    return out;
}

Result<std::vector<Media>> MediaRepo::missing(int64_t limit) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kCols +
                                          " FROM media WHERE resolved_path IS NULL ORDER BY id LIMIT ?"));
    st.bind(1, limit);
    std::vector<Media> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_media(st));
    }
    return out;
}

Result<MediaCounts> MediaRepo::counts() {
    MediaCounts c;
    MATRIX_TRY(c.total, m_db.query_int64("SELECT count(*) FROM media"));
    MATRIX_TRY(c.missing, m_db.query_int64("SELECT count(*) FROM media WHERE resolved_path IS NULL"));
    return c;
}

Status MediaRepo::refresh_tasks_of(int64_t media_id) {
    MATRIX_TRY(Statement * st,
               m_db.cached("UPDATE tasks SET "
                           "n_images = (SELECT count(*) FROM task_media WHERE task_id=tasks.id AND role='image'), "
                           "n_missing_media = (SELECT count(*) FROM task_media tm JOIN media m ON m.id=tm.media_id "
                           "  WHERE tm.task_id=tasks.id AND m.resolved_path IS NULL) "
                           "WHERE id IN (SELECT task_id FROM task_media WHERE media_id=?)"));
    st->bind(1, media_id);
    return st->run();
}

}  // namespace matrix::store
