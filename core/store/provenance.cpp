// Provenance edges (see provenance.h).
#include "core/store/provenance.h"

namespace matrix::store {

Result<int64_t> ProvenanceRepo::link(const std::string& from_kind, int64_t from_id, const std::string& to_kind,
                                     int64_t to_id, const std::string& relation) {
    MATRIX_TRY(Statement st, m_db.prepare("INSERT INTO provenance(from_kind, from_id, to_kind, to_id, relation) "
                                          "VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING"));
    st.bind_all(from_kind, from_id, to_kind, to_id, relation);
    MATRIX_CHECK(st.run());
    MATRIX_TRY(Statement q, m_db.prepare("SELECT id FROM provenance WHERE from_kind=? AND from_id=? AND to_kind=? AND "
                                         "to_id=? AND relation=?"));
    q.bind_all(from_kind, from_id, to_kind, to_id, relation);
    MATRIX_TRY(bool row, q.step());
    return row ? q.column_int64(0) : int64_t(0);
}

static Result<std::vector<ProvenanceLink>> query_links(Database& db, const std::string& sql, const std::string& kind,
                                                       int64_t id) {
    MATRIX_TRY(Statement st, db.prepare(sql));
    st.bind_all(kind, id);
    std::vector<ProvenanceLink> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        ProvenanceLink l;
        l.id = st.column_int64(0);
        l.from_kind = st.column_text(1);
        l.from_id = st.column_int64(2);
        l.to_kind = st.column_text(3);
        l.to_id = st.column_int64(4);
        l.relation = st.column_text(5);
        l.created_at = st.column_text(6);
        out.push_back(std::move(l));
    }
    return out;
}

Result<std::vector<ProvenanceLink>> ProvenanceRepo::from(const std::string& kind, int64_t id) {
    return query_links(m_db, "SELECT id, from_kind, from_id, to_kind, to_id, relation, created_at FROM provenance "
                             "WHERE from_kind=? AND from_id=? ORDER BY id", kind, id);
}

Result<std::vector<ProvenanceLink>> ProvenanceRepo::to(const std::string& kind, int64_t id) {
    return query_links(m_db, "SELECT id, from_kind, from_id, to_kind, to_id, relation, created_at FROM provenance "
                             "WHERE to_kind=? AND to_id=? ORDER BY id", kind, id);
}

}  // namespace matrix::store
