// Dataset rows (see dataset_repo.h).
#include "core/store/dataset_repo.h"

#include <nlohmann/json.hpp>

#include "core/store/fts.h"

namespace matrix::store {

namespace {
const char* kCols = "id, name, kind, COALESCE(source_path,''), image_roots, COALESCE(description,''), meta, created_at";

Dataset read_dataset(const Statement& st) {
    Dataset d;
    d.id = st.column_int64(0);
    d.name = st.column_text(1);
    d.kind = st.column_text(2);
    d.source_path = st.column_text(3);
    auto roots = nlohmann::json::parse(st.column_view(4), nullptr, false);
    if (roots.is_array())
        for (auto& r : roots)
            if (r.is_string()) d.image_roots.push_back(r.get<std::string>());
    d.description = st.column_text(5);
    d.meta = st.column_text(6);
    d.created_at = st.column_text(7);
    return d;
}
}  // namespace

bool is_valid_dataset_kind(const std::string& k) {
    return k == "mtrace" || k == "prefx" || k == "beam" || k == "gta" || k == "gaia" || k == "agentx" || k == "demo" ||
           k == "adhoc";
}

Result<int64_t> DatasetRepo::create(const Dataset& d) {
    if (!is_valid_dataset_kind(d.kind)) return make_error("unknown dataset kind '" + d.kind + "'", d.name);
    MATRIX_TRY(Statement st, m_db.prepare("INSERT INTO datasets(name, kind, source_path, image_roots, description, "
                                          "meta) VALUES(?,?,?,?,?,?)"));
    st.bind_all(d.name, d.kind, d.source_path, nlohmann::json(d.image_roots).dump(), d.description,
                d.meta.empty() ? std::string("{}") : d.meta);
    if (auto s = st.run(); !s.ok()) return s.error().within("dataset '" + d.name + "'");
    return m_db.last_insert_rowid();
}

Result<Dataset> DatasetRepo::find_or_create(const std::string& name, const std::string& kind,
                                            const std::string& source_path) {
    MATRIX_TRY(auto found, find(name));
    if (found) {
        if (found->kind != kind)
            return make_error("dataset exists with kind '" + found->kind + "', not '" + kind + "'", name);
        return *found;
    }
    Dataset d;
    d.name = name;
    d.kind = kind;
    d.source_path = source_path;
    MATRIX_TRY(int64_t id, create(d));
    MATRIX_TRY(auto got, get(id));
    return *got;
}

Result<std::optional<Dataset>> DatasetRepo::find(const std::string& name) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kCols + " FROM datasets WHERE name=?"));
    st.bind(1, name);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<Dataset>();
    return std::optional<Dataset>(read_dataset(st));
}

Result<std::optional<Dataset>> DatasetRepo::get(int64_t id) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kCols + " FROM datasets WHERE id=?"));
    st.bind(1, id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<Dataset>();
    return std::optional<Dataset>(read_dataset(st));
}

Result<std::vector<Dataset>> DatasetRepo::list() {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kCols + " FROM datasets ORDER BY id"));
    std::vector<Dataset> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_dataset(st));
    }
    return out;
}

Result<DatasetCounts> DatasetRepo::counts(int64_t id) {
    DatasetCounts c;
    MATRIX_TRY(Statement st, m_db.prepare(
                                 "SELECT (SELECT count(*) FROM tasks WHERE dataset_id=?1),"
                                 " (SELECT count(*) FROM trajectories tr JOIN tasks t ON t.id=tr.task_id"
                                 "  WHERE t.dataset_id=?1),"
                                 " (SELECT count(*) FROM pairs WHERE dataset_id=?1),"
                                 " (SELECT count(*) FROM pairs WHERE dataset_id=?1 AND status='pending'),"
                                 " (SELECT count(*) FROM pairs WHERE dataset_id=?1 AND status='approved'),"
                                 " (SELECT count(*) FROM pairs WHERE dataset_id=?1 AND status='rejected')"));
    st.bind(1, id);
    MATRIX_TRY(bool row, st.step());
    if (row) {
        c.tasks = st.column_int64(0);
        c.trajectories = st.column_int64(1);
        c.pairs = st.column_int64(2);
        c.pairs_pending = st.column_int64(3);
        c.pairs_approved = st.column_int64(4);
        c.pairs_rejected = st.column_int64(5);
    }
    return c;
}

Status DatasetRepo::set_image_roots(int64_t id, const std::vector<std::string>& roots) {
    MATRIX_TRY(Statement st, m_db.prepare("UPDATE datasets SET image_roots=? WHERE id=?"));
    st.bind_all(nlohmann::json(roots).dump(), id);
    return st.run();
}

Status DatasetRepo::set_meta(int64_t id, const std::string& meta_json) {
    if (!nlohmann::json::accept(meta_json)) return make_error("dataset meta is not JSON");
    MATRIX_TRY(Statement st, m_db.prepare("UPDATE datasets SET meta=? WHERE id=?"));
    st.bind_all(meta_json, id);
    return st.run();
}

Status DatasetRepo::remove(int64_t id) {
    Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    // Contentless FTS rows must be deleted with their values before the rows they came from go.
    MATRIX_TRY(Statement ids, m_db.prepare("SELECT id FROM tasks WHERE dataset_id=?"));
    ids.bind(1, id);
    for (;;) {
        MATRIX_TRY(bool row, ids.step());
        if (!row) break;
        MATRIX_CHECK(fts_remove_task(m_db, ids.column_int64(0)));
    }
    MATRIX_CHECK(m_db.exec("DELETE FROM tool_calls WHERE task_id IN (SELECT id FROM tasks WHERE dataset_id=" +
                           std::to_string(id) + ")"));
    MATRIX_TRY(Statement del, m_db.prepare("DELETE FROM datasets WHERE id=?"));
    del.bind(1, id);
    MATRIX_CHECK(del.run());
    return tx.commit();
}

}  // namespace matrix::store
